from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailingConfig(AppConfig):
    name = "mailing"
    verbose_name = _("Mailing")

    def ready(self):
        # Before Wagtail registers the viewsets, which would otherwise install a
        # plain model-permission fallback policy.
        from .permissions import register_policies

        register_policies()

        from .exports import make_every_export_safe

        make_every_export_safe()

        from . import signals  # noqa: F401 - connects the Anymail receivers
