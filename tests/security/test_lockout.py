"""Login-failure lockout (等保 8.1.4.1 b): 5 failures lock the account and the client address
for 15 minutes, every failure is recorded, the lockout page is Chinese; the site login, the
admin login and the enterprise portal login are all covered."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.urls import reverse
from django.utils import timezone

from registry import roles
from tests.factories import EnterpriseFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Passw0rd!x"
LOGIN = "/accounts/login/"


def _post(client, username, password, *, ip="10.0.0.1", url=LOGIN):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _fail(client, username, times, *, ip="10.0.0.1", url=LOGIN):
    for _ in range(times):
        response = _post(client, username, "wrong-Passw0rd", ip=ip, url=url)
        assert response.status_code in (200, 429)


def test_four_failures_do_not_lock_and_the_right_password_still_works(client):
    UserFactory(username="alice")
    _fail(client, "alice", 4)
    response = _post(client, "alice", PASSWORD)
    assert response.status_code == 302


def test_five_failures_lock_the_account_with_a_chinese_page_even_for_the_right_password(client):
    UserFactory(username="alice")
    _fail(client, "alice", 5)

    response = _post(client, "alice", PASSWORD)

    assert response.status_code == 429
    text = response.content.decode()
    assert "登录已暂时锁定" in text
    assert "15分钟" in text or "15 分钟" in text
    assert "_auth_user_id" not in client.session


def test_the_account_stays_locked_from_another_address(client):
    UserFactory(username="alice")
    for n in range(5):
        _fail(client, "alice", 1, ip=f"10.0.1.{n}")

    assert _post(client, "alice", PASSWORD, ip="10.9.9.9").status_code == 429


def test_five_failures_from_one_address_lock_that_address_for_every_account(client):
    UserFactory(username="bob")
    for n in range(5):
        _fail(client, f"nobody{n}", 1, ip="10.0.0.7")

    assert _post(client, "bob", PASSWORD, ip="10.0.0.7").status_code == 429
    assert _post(client, "bob", PASSWORD, ip="10.0.0.8").status_code == 302


def test_the_lock_lifts_after_15_minutes(client):
    UserFactory(username="alice")
    _fail(client, "alice", 5)
    assert _post(client, "alice", PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert _post(client, "alice", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _post(client, "alice", PASSWORD).status_code == 302


def test_every_failure_and_the_lockout_are_logged(client, caplog):
    UserFactory(username="alice")
    caplog.set_level("INFO")
    _fail(client, "alice", 5)
    _post(client, "alice", PASSWORD)

    assert AccessFailureLog.objects.filter(username="alice").count() >= 5
    attempt = AccessAttempt.objects.get(username="alice")
    assert attempt.failures_since_start >= 5
    assert attempt.ip_address == "10.0.0.1"
    assert any("locked out" in r.getMessage().lower() for r in caplog.records)


def test_the_admin_login_is_protected(client):
    UserFactory(username="staffer", role=roles.HANDLER)
    url = reverse("admin:login")
    _fail(client, "staffer", 5, url=url)

    response = _post(client, "staffer", PASSWORD, url=url)

    assert response.status_code == 429
    assert "登录已暂时锁定" in response.content.decode()


def test_the_enterprise_portal_login_is_protected(client):
    enterprise = EnterpriseFactory()
    UserFactory(username=enterprise.credit_code, enterprise=enterprise, role=roles.ENTERPRISE_USER)
    url = reverse("enterprise:login")
    _fail(client, enterprise.credit_code, 5, url=url)

    response = _post(client, enterprise.credit_code, PASSWORD, url=url)

    assert response.status_code == 429


def test_an_api_client_gets_the_lockout_as_json(client):
    UserFactory(username="alice")
    _fail(client, "alice", 5)

    response = client.post(LOGIN, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1",
                           HTTP_ACCEPT="application/json")

    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "login_locked"


def test_behind_a_proxy_the_client_address_is_the_one_the_proxy_appended(rf, settings):
    from registry.security.lockout import client_ip

    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.DJANGO_PROXY_COUNT = 0
    assert client_ip(request) == "127.0.0.1"
    settings.DJANGO_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # a spoofed left-most entry is ignored
