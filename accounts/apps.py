from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.db.models.signals import post_save
        from wagtail.users.models import UserProfile

        from .language import on_profile_saved, on_user_saved
        from .models import User

        # The admin speaks the language the person chose anywhere (accounts.language).
        post_save.connect(on_user_saved, sender=User, dispatch_uid="accounts.language")
        post_save.connect(
            on_profile_saved, sender=UserProfile, dispatch_uid="accounts.admin_language"
        )
