"""Bureau staff must change their password every 90 days: until they do, every page sends them to
the password-change page (the API answers 403); other users' passwords do not expire."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry import roles
from registry.models import PasswordHistory
from tests.factories import EnterpriseFactory, UserFactory

pytestmark = pytest.mark.django_db


def _age_password(user, days):
    PasswordHistory.objects.filter(user=user).update(created_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def staff(client):
    user = UserFactory(username="handler", role=roles.HANDLER)
    client.force_login(user)
    return user


def test_a_staff_password_younger_than_90_days_is_fine(client, staff):
    _age_password(staff, 89)
    assert client.get("/admin/").status_code == 200


def test_a_staff_password_older_than_90_days_redirects_to_the_password_change_page(client, staff):
    _age_password(staff, 91)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_change/"
    assert client.get("/accounts/password_change/").status_code == 200


def test_the_api_answers_403_for_an_expired_staff_password(client, staff):
    _age_password(staff, 91)
    response = client.get("/api/schema/")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "password_expired"


def test_changing_the_password_ends_the_redirect(client, staff):
    _age_password(staff, 91)
    assert client.get("/admin/").status_code == 302

    response = client.post("/accounts/password_change/", {
        "old_password": "Passw0rd!x", "new_password1": "Fresh-passw0rd", "new_password2": "Fresh-passw0rd",
    })

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_user_without_password_history_counts_from_the_date_joined(client, staff):
    PasswordHistory.objects.filter(user=staff).delete()
    type(staff).objects.filter(pk=staff.pk).update(date_joined=timezone.now() - timedelta(days=100))
    assert client.get("/admin/").status_code == 302


def test_enterprise_users_passwords_do_not_expire(client):
    enterprise = EnterpriseFactory()
    user = UserFactory(username=enterprise.credit_code, enterprise=enterprise, role=roles.ENTERPRISE_USER)
    _age_password(user, 400)
    client.force_login(user)
    assert client.get("/enterprise/").status_code == 200


def test_expiry_can_be_switched_off(client, staff, settings):
    settings.PASSWORD_EXPIRY_DAYS = 0
    _age_password(staff, 400)
    assert client.get("/admin/").status_code == 200
