from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BanksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "banks"
    verbose_name = _("银行报送")

    def ready(self) -> None:
        from .intake import lookups
        from .intake.safety import assert_defusedxml

        assert_defusedxml()
        lookups.register()  # field__any_of=[…] (bulk intake look-ups)  # refuse to start without defusedxml (bank-workbooks.md §3)
