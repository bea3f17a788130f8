"""The deployment gate: ``manage.py check --deploy --fail-level WARNING`` passes under the
production environment (and fails with the embedded secret key)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECURE_COOKIES": "true",
    "DJANGO_SECURE_SSL_REDIRECT": "true",
    "DJANGO_HSTS_SECONDS": "31536000",
    "DJANGO_ALLOWED_HOSTS": "fundpool.example.gov.cn",
}


def _check(*args: str, secret_key: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(PRODUCTION_ENV)
    env.pop("DATABASE_URL", None)
    if secret_key is not None:
        env["DJANGO_SECRET_KEY"] = secret_key
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING", *args],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def _problems(result: subprocess.CompletedProcess) -> str:
    return "\n".join(line for line in (result.stdout + result.stderr).splitlines() if "?: (" in line or "ERROR" in line)


@pytest.fixture(scope="module")
def secret_key():
    return secrets.token_urlsafe(64)


def test_the_security_checks_pass_under_production_settings(secret_key):
    result = _check("--tag", "security", secret_key=secret_key)
    assert result.returncode == 0, _problems(result)


def test_the_whole_deploy_check_passes_under_production_settings(secret_key):
    result = _check(secret_key=secret_key)
    assert result.returncode == 0, "check --deploy found:\n" + _problems(result)


def test_the_embedded_secret_key_fails_the_gate():
    result = _check("--tag", "security", secret_key=None)
    assert result.returncode != 0
    assert "registry_security.W001" in result.stdout + result.stderr
