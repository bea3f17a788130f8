"""TOTP enrolment and verification pages (/security/otp/setup/, /security/otp/verify/)."""

from __future__ import annotations

import logging
from base64 import b32encode

import django_otp
from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.audit import record_event

log = logging.getLogger("registry.security")

DEVICE_NAME = "动态口令"


class TokenForm(forms.Form):
    token = forms.RegexField(
        label="动态口令", regex=r"^\d{6}$", max_length=6,
        error_messages={"invalid": "请输入6位数字动态口令。"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/admin/" if request.user.is_staff else "/"


def _with_next(url: str, next_url: str) -> str:
    from urllib.parse import urlencode

    return f"{url}?{urlencode({'next': next_url})}"


def _qr_svg(data: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def _mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    django_otp.login(request, device)
    request.session.cycle_key()  # a privilege change: a new session key


@never_cache
@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP device: QR code or secret text, then one valid code confirms it."""
    next_url = _next_url(request)
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return HttpResponseRedirect(_with_next(reverse("security:otp-verify"), next_url))
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name=DEVICE_NAME, confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
            if device.verify_token(form.cleaned_data["token"]):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                record_event(actor=request.user, event_type="security.otp_enrolled", obj=request.user)
                confirmed = True
            else:
                confirmed = False
        if confirmed:
            _mark_verified(request, device)
            log.info("OTP device enrolled for user %s", request.user.pk)
            return HttpResponseRedirect(next_url)
        log.warning("OTP enrolment code rejected for user %s", request.user.pk)
        form.add_error("token", "动态口令不正确或已过期，请核对手机时间后重试。")
    secret = b32encode(device.bin_key).decode("ascii")
    context = {
        "form": form,
        "next": next_url,
        "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 (generated SVG, no user input)
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }
    return render(request, "security/otp_setup.html", context)


@never_cache
@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Enter the current TOTP code; the session is then second-factor verified."""
    next_url = _next_url(request)
    devices = list(TOTPDevice.objects.filter(user=request.user, confirmed=True))
    if not devices:
        return HttpResponseRedirect(_with_next(reverse("security:otp-setup"), next_url))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verified = None
        for device in devices:
            verified = django_otp.verify_token(request.user, device.persistent_id, form.cleaned_data["token"])
            if verified is not None:
                break
        if verified is not None:
            _mark_verified(request, verified)
            log.info("OTP verified for user %s", request.user.pk)
            return HttpResponseRedirect(next_url)
        log.warning("OTP code rejected for user %s", request.user.pk)
        form.add_error("token", "动态口令不正确或已过期（多次错误后需等待更久才能重试）。")
    return render(request, "security/otp_verify.html", {"form": form, "next": next_url})
