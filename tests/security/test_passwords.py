"""Password rules (等保 level 3): at least 8 characters, three of four character classes, none
of the last five passwords again; the history is recorded on every password change."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from registry.models import PasswordHistory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _codes(password, user=None):
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return {e.code for e in exc.error_list}
    return set()


@pytest.mark.parametrize("password", ["Aa1!aaa", "Xy7#"])
def test_a_password_shorter_than_8_characters_is_refused(password):
    assert "password_too_short" in _codes(password)


@pytest.mark.parametrize("password", ["correcthorse", "CORRECTHORSE", "correct-horse", "Correcthorse", "2847392018a"])
def test_a_password_with_fewer_than_three_character_classes_is_refused(password):
    assert "password_too_simple" in _codes(password)


@pytest.mark.parametrize("password", ["Correct-horse", "correct-h0rse", "CORRECT-H0RSE", "Correcth0rse", "Passw0rd!x"])
def test_a_password_with_three_or_four_classes_passes(password):
    assert _codes(password) == set()


def test_the_message_is_chinese():
    with pytest.raises(ValidationError) as exc:
        validate_password("correcthorse")
    assert "至少3类" in " ".join(exc.value.messages)


def test_every_password_change_is_recorded_in_the_history():
    user = UserFactory(username="alice")
    for n in range(3):
        user.set_password(f"New-passw0rd-{n}")
        user.save()
    assert PasswordHistory.objects.filter(user=user).count() == 4  # the factory's + 3


def test_the_history_keeps_only_the_last_five():
    user = UserFactory(username="alice")
    for n in range(7):
        user.set_password(f"New-passw0rd-{n}")
        user.save()
    assert PasswordHistory.objects.filter(user=user).count() == 5


def test_none_of_the_last_five_passwords_may_be_reused_but_the_sixth_may():
    # given: passwords P0 (oldest) … P5 (current)
    user = UserFactory(username="alice")
    passwords = [f"Old-passw0rd-{n}" for n in range(6)]
    for password in passwords:
        user.set_password(password)
        user.save()

    # then: the current one and the four before it are refused, the one before those is allowed
    for password in passwords[1:]:
        assert "password_reused" in _codes(password, user), password
    assert "password_reused" not in _codes(passwords[0], user)


def test_the_current_password_is_refused_even_without_history():
    user = UserFactory(username="alice")
    PasswordHistory.objects.filter(user=user).delete()
    assert "password_reused" in _codes("Passw0rd!x", user)


def test_a_new_user_has_no_history_to_check():
    assert _codes("Brand-new-passw0rd") == set()


def test_the_password_change_page_refuses_a_recent_password(client):
    user = UserFactory(username="alice")
    client.force_login(user)

    response = client.post("/accounts/password_change/", {
        "old_password": "Passw0rd!x", "new_password1": "Passw0rd!x", "new_password2": "Passw0rd!x",
    })

    assert response.status_code == 200
    assert "最近5次" in response.content.decode()


def test_the_demo_password_satisfies_the_rules(settings):
    from banks.demo import foundation

    settings.DEMO_PASSWORD = ""
    foundation._PASSWORD = None
    try:
        for _ in range(20):
            foundation._PASSWORD = None
            assert _codes(foundation.demo_password()) == set()
    finally:
        foundation._PASSWORD = None
