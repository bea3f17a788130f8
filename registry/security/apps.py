from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    """registry.security as an app: its system checks (``check --deploy``); no models
    (PasswordHistory and AuditChainAnchor live in registry.models)."""

    name = "registry.security"
    label = "registry_security"
    verbose_name = _("安全")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
