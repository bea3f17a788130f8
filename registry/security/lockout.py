"""django-axes integration: the Chinese lockout response (settings.AXES_LOCKOUT_CALLABLE).

django-axes counts failed ``django.contrib.auth.authenticate(request, …)`` calls — the site
login, the admin login, the enterprise portal's login and DRF's token view all go through it —
records every failure (AccessAttempt, AccessFailureLog) and, once locked out, answers with
this response for ``AXES_COOLOFF_TIME``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

log = logging.getLogger("registry.security")


def client_ip(request: HttpRequest) -> str | None:
    """The client address: REMOTE_ADDR, or behind ``DJANGO_PROXY_COUNT`` trusted proxies the
    address the outermost proxy appended to X-Forwarded-For (never a client-supplied entry)."""
    count = getattr(settings, "DJANGO_PROXY_COUNT", 0)
    if count:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def _minutes() -> int:
    cool_off = settings.AXES_COOLOFF_TIME
    return int(cool_off.total_seconds() // 60) if cool_off else 0


def lockout_message() -> str:
    return (
        f"登录失败次数过多（{settings.AXES_FAILURE_LIMIT}次），账号和来源地址已被锁定"
        f"{_minutes()}分钟，请稍后再试；如需立即解锁，请联系系统管理员。"
    )


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    status = settings.AXES_HTTP_RESPONSE_CODE
    log.warning(
        "Login locked out: username=%r ip=%s path=%s",
        (credentials or {}).get("username"),
        getattr(request, "axes_ip_address", request.META.get("REMOTE_ADDR")),
        request.path,
    )
    wants_json = (
        request.path.startswith("/api/")
        or request.headers.get("x-requested-with") == "XMLHttpRequest"
        or "application/json" in request.headers.get("accept", "")
    )
    if wants_json:
        return JsonResponse(
            {"errors": [{"code": "login_locked", "message": lockout_message(), "rule": "",
                         "detail": {"cooloff_minutes": _minutes()}}]},
            status=status,
        )
    return render(
        request, "security/lockout.html",
        {"message": lockout_message(), "minutes": _minutes(), "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=status,
    )
