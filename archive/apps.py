from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = _("Mailing archive")

    def ready(self):
        from . import signals  # noqa: F401 - drops cached archive pages on opt-out
