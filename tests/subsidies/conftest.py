import pytest
from django.core.cache import cache

from registry import roles
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fast_and_clean(settings, tmp_path, monkeypatch):
    """Cheap password hashing, private files in a temp MEDIA_ROOT, fresh throttle counters, and
    the throttle's clock stopped mid-window (a test's requests must not straddle two windows)."""
    monkeypatch.setattr("subsidies.throttle.clock", lambda: 1_800_000_030.0)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def handler(db):
    return UserFactory(username="jingban", role=roles.HANDLER)


@pytest.fixture
def handler2(db):
    return UserFactory(username="jingban2", role=roles.HANDLER)


@pytest.fixture
def approver(db):
    return UserFactory(username="fuhe", role=roles.APPROVER)


@pytest.fixture
def approver2(db):
    return UserFactory(username="fuhe2", role=roles.APPROVER)


@pytest.fixture
def administrator(db):
    return UserFactory(username="guanli", role=roles.ADMINISTRATOR)
