from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Klanttevredenheid")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from surveys.questionnaires import open_links

        open_links.connect()
