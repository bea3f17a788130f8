"""Test helpers for the second factor (import from tests only).

    from registry.security.testing import verify_second_factor
    client.force_login(approver)
    verify_second_factor(client, approver)      # the client's session is now OTP-verified

``verify_second_factor`` also accepts a RequestFactory request (it calls ``django_otp.login``).
``current_totp(device)`` gives the code an authenticator app would show (browser tests).
"""

from __future__ import annotations

import time
from typing import Any

import django_otp
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def confirmed_device(user: Any) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="测试口令", confirmed=True)


def verify_second_factor(client_or_request: Any, user: Any) -> TOTPDevice:
    """Mark a logged-in test client's session (or a request) as second-factor verified."""
    device = confirmed_device(user)
    if isinstance(client_or_request, HttpRequest):
        client_or_request.user = user
        django_otp.login(client_or_request, device)
        return device
    session = client_or_request.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def current_totp(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    """The 6-digit code for ``device`` now (``offset_steps`` of 30 s later or earlier)."""
    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    generator.time = time.time() + offset_steps * device.step
    return f"{generator.token():0{device.digits}d}"
