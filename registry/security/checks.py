"""Deployment checks added to ``manage.py check --deploy``."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Info, Tags, Warning, register

from . import pii

EMBEDDED_SECRET_KEY_PREFIX = "insecure-embedded-default"  # noqa: S105 (the default we refuse)


@register(Tags.security, deploy=True)
def security_deploy_checks(app_configs, **kwargs):
    messages = []
    if settings.SECRET_KEY.startswith(EMBEDDED_SECRET_KEY_PREFIX):
        messages.append(Warning(
            "SECRET_KEY 仍是内置的默认值。", hint="设置环境变量 DJANGO_SECRET_KEY（50 个以上随机字符）。",
            id="registry_security.W001",
        ))
    if not getattr(settings, "OTP_REQUIRED_FOR_APPROVALS", True):
        messages.append(Warning(
            "审批和支付未要求双因素认证（OTP_REQUIRED_FOR_APPROVALS=False）。",
            hint="生产环境不要设置 DJANGO_OTP_REQUIRED_FOR_APPROVALS=false。", id="registry_security.W002",
        ))
    if "axes.backends.AxesStandaloneBackend" not in settings.AUTHENTICATION_BACKENDS:
        messages.append(Warning("登录失败锁定（django-axes）未启用。", id="registry_security.W003"))
    if not pii.keys_from_environment():
        messages.append(Info(
            "个人信息加密密钥取自 PII_KEY_DIR 下自动生成的密钥文件。",
            hint="生产环境请通过环境变量 PII_ENCRYPTION_KEY 和 PII_HASH_KEY 提供密钥，并与数据库分开备份。",
            id="registry_security.I001",
        ))
    return messages
