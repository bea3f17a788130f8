from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "registry"
    verbose_name = _("名录与参考数据")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, pre_migrate

        from .reference import reload_reference_data_after_flush
        from .roles import sync_roles_after_migrate
        from .setfk import drop_before_migrate, install_after_migrate

        post_migrate.connect(reload_reference_data_after_flush, dispatch_uid="registry.reference_data")
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="registry.sync_roles")
        pre_migrate.connect(drop_before_migrate, dispatch_uid="registry.setfk_drop")
        post_migrate.connect(install_after_migrate, dispatch_uid="registry.setfk_install")
