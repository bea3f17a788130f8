"""Sessions: 30-minute idle timeout with HttpOnly cookies, a new session key at login, other
sessions ended by a password change, all sessions ended by deactivation."""

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client

from registry import roles
from registry.models import DomainEvent
from registry.security import user_deactivate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Passw0rd!x"


def _logged_in_client(user):
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_idle_timeout_is_30_minutes_renewed_on_every_request_and_the_cookie_is_httponly(client):
    assert settings.SESSION_COOKIE_AGE == 1800
    assert settings.SESSION_SAVE_EVERY_REQUEST
    user = UserFactory(username="alice")
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert int(cookie["max-age"]) == 1800
    assert cookie["samesite"] == "Lax"
    assert user.pk


def test_secure_cookies_follow_the_environment_switch():
    # production sets DJANGO_SECURE_COOKIES=true (tests/security/test_deploy_check.py runs that)
    assert settings.CSRF_COOKIE_SECURE == settings.SESSION_COOKIE_SECURE


def test_login_rotates_the_session_key(client):
    UserFactory(username="alice")
    client.get("/accounts/login/")
    session = client.session
    session["pre_login"] = "x"
    session.save()
    before = session.session_key

    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()


def test_a_password_change_keeps_this_session_and_ends_every_other(client):
    user = UserFactory(username="alice")
    other = _logged_in_client(user)
    this = _logged_in_client(user)
    assert other.get("/accounts/password_change/").status_code == 200
    key_before = this.session.session_key

    response = this.post("/accounts/password_change/", {
        "old_password": PASSWORD, "new_password1": "Fresh-passw0rd", "new_password2": "Fresh-passw0rd",
    })

    assert response.status_code == 302
    assert this.get("/accounts/password_change/").status_code == 200
    assert this.session.session_key != key_before  # rotated as well
    ended = other.get("/accounts/password_change/")
    assert ended.status_code == 302
    assert ended["Location"].startswith("/accounts/login/")


def test_deactivation_deletes_every_session_of_the_user_and_is_audited():
    user = UserFactory(username="alice")
    admin = UserFactory(username="boss", role=roles.ADMINISTRATOR)
    first, second = _logged_in_client(user), _logged_in_client(user)
    bystander = _logged_in_client(UserFactory(username="bob"))

    user_deactivate(user=user, actor=admin)

    user.refresh_from_db()
    assert not user.is_active
    remaining = [s.get_decoded().get(SESSION_KEY) for s in Session.objects.all()]
    assert str(user.pk) not in remaining
    for client in (first, second):
        assert client.get("/accounts/password_change/").status_code == 302
    assert bystander.get("/accounts/password_change/").status_code == 200
    event = DomainEvent.objects.get(event_type="user.deactivated")
    assert event.params["sessions_ended"] == 2
    assert event.actor == admin


def test_a_user_deactivated_behind_the_services_back_is_logged_out_at_the_next_request():
    user = UserFactory(username="alice")
    client = _logged_in_client(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)

    response = client.get("/accounts/password_change/")

    assert response.status_code == 302
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert not Session.objects.filter(session_key=key, session_data__contains=str(user.pk)).exists() or \
        SESSION_KEY not in Session.objects.get(session_key=key).get_decoded()
