"""Security headers on every response (HSTS over HTTPS, nosniff, Referrer-Policy, frame denial,
a Content-Security-Policy without inline script) and no inline <script> anywhere we serve."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines

from registry import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _inline_scripts(html: str) -> list[str]:
    return [m.group(0)[:120] for m in SCRIPT_TAG.finditer(html) if "src=" not in m.group(1) and m.group(2).strip()]


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="boss", role=roles.ADMINISTRATOR))
    return client


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/", "/api/docs/", "/healthz"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    csp = _directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_hsts_over_https_with_the_production_settings(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_plain_http_is_redirected_to_https_when_configured(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/", "/api/docs/", "/enterprise/login/",
                                  "/security/otp/setup/"])
def test_pages_have_no_inline_script(client, path):
    if path.startswith("/security/"):
        client.force_login(UserFactory(username="someone"))
    response = client.get(path)
    assert response.status_code == 200
    assert _inline_scripts(response.content.decode()) == []


@pytest.mark.parametrize("path", ["/admin/", "/admin/registry/enterprise/", "/admin/registry/enterprise/add/"])
def test_admin_pages_have_no_inline_script(staff_client, path):
    response = staff_client.get(path)
    assert response.status_code == 200
    assert _inline_scripts(response.content.decode()) == []


def test_swagger_ui_loads_its_init_script_as_a_file(client):
    html = client.get("/api/docs/").content.decode()
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert any("script" in src for src in sources if src.startswith("/api/docs/"))
    init = client.get("/api/docs/?script=")
    assert init.status_code == 200
    assert "SwaggerUIBundle" in init.content.decode()


def test_no_template_of_the_project_contains_an_inline_script():
    offenders = []
    directories = [Path(d) for d in engines["django"].engine.dirs]
    directories += [PROJECT / app / "templates" for app in ("registry", "fund", "subsidies", "banks", "reporting")]
    for directory in directories:
        for template in directory.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            offenders += [f"{template.relative_to(PROJECT)}: {snippet}" for snippet in _inline_scripts(text)]
            offenders += [f"{template.relative_to(PROJECT)}: on…= handler" for _ in re.findall(
                r"<[^>]+\son[a-z]+\s*=", text)]
    assert offenders == []


def test_session_and_csrf_cookies_are_secure_when_the_environment_says_so():
    # settings are env-driven; the production values are exercised by test_deploy_check
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SECURE == settings.CSRF_COOKIE_SECURE
