"""TOTP second factor before approvals and payments: the helpers, the admin-wide guard, the
enrolment and verification pages, the DRF permission and the test helper."""

import pytest
from django.contrib import admin as admin_module
from django.core.exceptions import PermissionDenied
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIRequestFactory

from registry import roles
from registry.models import DomainEvent
from registry.security import (
    IsOTPVerified,
    ensure_second_factor,
    require_verified_otp,
    user_passed_second_factor,
)
from registry.security.testing import current_totp, verify_second_factor
from tests.factories import BankFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def approver(client):
    user = UserFactory(username="approver", role=roles.APPROVER)
    user.is_superuser = True  # sees the dummy admin's Bank changelist
    user.save()
    client.force_login(user)
    return user


@pytest.fixture
def dummy_admin(settings):
    settings.ROOT_URLCONF = "tests.security.otp_urls"
    return BankFactory()


def _action(client, name, bank):
    return client.post("/admin/registry/bank/", {
        "action": name, admin_module.helpers.ACTION_CHECKBOX_NAME: [bank.pk], "index": 0,
    })


# --- helpers -----------------------------------------------------------------------------


def test_a_plain_request_is_not_verified_and_the_guard_says_so_in_chinese(rf, approver):
    request = rf.post("/x")
    request.user = approver
    assert not user_passed_second_factor(request)
    with pytest.raises(PermissionDenied, match="双因素认证"):
        ensure_second_factor(request)
    with pytest.raises(PermissionDenied):
        require_verified_otp(request)


def test_a_verified_request_passes(rf, approver):
    request = rf.post("/x")
    request.session = {}
    verify_second_factor(request, approver)
    assert user_passed_second_factor(request)
    assert user_passed_second_factor(request.user)
    ensure_second_factor(request)


def test_a_user_loaded_without_the_session_never_counts_as_verified(approver):
    assert not user_passed_second_factor(type(approver).objects.get(pk=approver.pk))


def test_the_requirement_can_be_switched_off_for_a_demo(rf, approver, settings):
    settings.OTP_REQUIRED_FOR_APPROVALS = False
    request = rf.post("/x")
    request.user = approver
    assert user_passed_second_factor(request)


def test_the_drf_permission(approver):
    request = APIRequestFactory().post("/api/x")
    request.user = approver
    permission = IsOTPVerified()
    assert not permission.has_permission(request, None)
    assert "双因素认证" in permission.message
    request.session = {}
    verify_second_factor(request, approver)
    assert permission.has_permission(request, None)


# --- the admin: approval actions need the second factor ------------------------------------


def test_an_unverified_approval_action_is_sent_to_the_verify_page_and_does_not_run(client, approver, dummy_admin):
    response = _action(client, "approve_selected", dummy_admin)

    assert response.status_code == 302
    assert response["Location"].startswith("/security/otp/verify/?next=")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert not any("approved" in m for m in messages)


def test_a_verified_approval_action_runs(client, approver, dummy_admin):
    verify_second_factor(client, approver)

    response = _action(client, "approve_selected", dummy_admin)

    assert response.status_code == 302
    assert response["Location"] == "/admin/registry/bank/"
    assert any("approved 1" in str(m) for m in response.wsgi_request._messages)


def test_an_action_declared_with_the_approve_permission_is_guarded_whatever_its_name(client, approver, dummy_admin):
    response = _action(client, "publish", dummy_admin)
    assert response["Location"].startswith("/security/otp/verify/")

    verify_second_factor(client, approver)
    response = _action(client, "publish", dummy_admin)
    assert any("published" in str(m) for m in response.wsgi_request._messages)


def test_an_action_that_calls_ensure_second_factor_answers_403_in_chinese(client, approver, dummy_admin):
    response = _action(client, "release_funds", dummy_admin)
    assert response.status_code == 403

    verify_second_factor(client, approver)
    assert _action(client, "release_funds", dummy_admin).status_code == 302


def test_an_action_with_the_decorator_redirects_to_the_verify_page(client, approver, dummy_admin):
    response = _action(client, "transfer", dummy_admin)
    assert response.status_code == 302
    assert response["Location"].startswith("/security/otp/verify/")


def test_a_decorated_view_refuses_until_verified(client, approver, dummy_admin):
    assert client.post("/dummy/approve/").status_code == 403
    verify_second_factor(client, approver)
    assert client.post("/dummy/approve/").content == b"approved"


def test_the_admin_guard_covers_admin_urls_ending_in_approve(client, approver):
    response = client.post("/admin/fund/claim/1/approve/")
    assert response.status_code == 302
    assert response["Location"].startswith("/security/otp/verify/")


def test_other_admin_posts_are_not_affected(client, approver, dummy_admin):
    response = client.post("/admin/registry/bank/", {"action": "delete_selected", "_selected_action": [], "index": 0})
    assert not response.get("Location", "").startswith("/security/")


# --- enrolment and verification pages -------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_secret_and_a_valid_code_confirms_the_device(client, approver):
    page = client.get("/security/otp/setup/?next=/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html
    device = TOTPDevice.objects.get(user=approver, confirmed=False)
    assert page.context["secret_groups"].replace(" ", "")
    session_key = client.session.session_key

    response = client.post("/security/otp/setup/", {"token": current_totp(device), "next": "/admin/"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.session.session_key != session_key
    assert DomainEvent.objects.filter(event_type="security.otp_enrolled", object_id=str(approver.pk)).exists()


def test_a_wrong_enrolment_code_does_not_confirm_the_device(client, approver):
    client.get("/security/otp/setup/")
    response = client.post("/security/otp/setup/", {"token": "000000"})
    assert response.status_code == 200
    assert "动态口令不正确" in response.content.decode()
    assert not TOTPDevice.objects.get(user=approver).confirmed


def test_verification_with_a_valid_code_marks_the_session(client, approver):
    device = TOTPDevice.objects.create(user=approver, name="口令", confirmed=True)

    wrong = client.post("/security/otp/verify/", {"token": "123456" if current_totp(device) != "123456" else "654321"})
    assert wrong.status_code == 200
    assert DEVICE_ID_SESSION_KEY not in client.session

    device.refresh_from_db()
    device.throttle_reset()
    response = client.post("/security/otp/verify/", {"token": current_totp(device), "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"  # an off-site next is ignored
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_verify_without_a_device_goes_to_enrolment(client, approver):
    response = client.get("/security/otp/verify/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/security/otp/setup/")


def test_the_pages_need_a_login(client):
    assert client.get("/security/otp/verify/").status_code == 302
    assert client.get("/security/otp/setup/").status_code == 302
