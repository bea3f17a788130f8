"""Fixtures for the security tests: a fast password hasher and a private MEDIA_ROOT."""

import pytest


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def pii_keys(settings, tmp_path):
    """PII keys from a private folder (the project's var/keys stays untouched)."""
    settings.PII_ENCRYPTION_KEY = ""
    settings.PII_HASH_KEY = ""
    settings.PII_KEY_DIR = tmp_path / "keys"
    return settings.PII_KEY_DIR
