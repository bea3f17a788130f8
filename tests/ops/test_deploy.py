"""deploy/: every variable the system reads is in env.example; units and nginx say what operations.md says."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def variables_read() -> set[str]:
    settings = _read(ROOT / "config" / "settings.py")
    gunicorn = _read(DEPLOY / "gunicorn.conf.py")
    names = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', settings))
    names |= set(re.findall(r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"', gunicorn))
    return names


def test_env_example_lists_every_variable_the_settings_and_gunicorn_read():
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", _read(DEPLOY / "env.example"), flags=re.MULTILINE))
    missing = variables_read() - listed
    assert not missing, f"deploy/env.example lacks {sorted(missing)}"


def test_env_example_is_production_like():
    env = dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", _read(DEPLOY / "env.example"), flags=re.MULTILINE))
    assert env["DJANGO_DEBUG"] == "false"
    assert env["DJANGO_SECURE_COOKIES"] == "true"
    assert env["DJANGO_STATICFILES_STORAGE"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert "DEMO_PASSWORD" not in env, "the demo password must not be set in a production environment"


@pytest.mark.parametrize("unit", ["fundpool-web", "fundpool-worker", "fundpool-beat"])
def test_systemd_units_run_unprivileged_hardened_and_restart(unit):
    text = _read(DEPLOY / "systemd" / f"{unit}.service")
    for line in ("EnvironmentFile=/etc/fundpool/env", "User=fundpool", "Restart=on-failure", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "PrivateTmp=yes", "CapabilityBoundingSet="):
        assert line in text, f"{unit}.service lacks {line}"


def test_nginx_caps_uploads_above_the_intake_limit_and_never_serves_media():
    text = _read(DEPLOY / "nginx" / "fundpool.conf")
    size = re.search(r"client_max_body_size\s+(\d+)m;", text)
    assert size, "no client_max_body_size"
    assert int(size.group(1)) * 1024 * 1024 >= 20 * 1024 * 1024
    assert re.search(r"location /media/ \{\s*return 404;", text), "/media/ must not be served"
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert "proxy_set_header X-Request-ID $request_id;" in text
    assert "proxy_read_timeout" in text


def test_task_time_limits_stay_below_the_visibility_timeout(settings):
    assert 0 < settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT < settings.CELERY_VISIBILITY_TIMEOUT
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
