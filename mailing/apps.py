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

        from . import lookups  # noqa: F401 - registers field__any_of
        from .exports import make_every_export_safe

        make_every_export_safe()

        # Wagtail-wide, as the exports are: page bodies and email layouts alike.
        from site_config.stream_input import check_every_stream_field

        check_every_stream_field()

        from django.db.models.signals import (
            post_delete,
            post_migrate,
            post_save,
            pre_delete,
            pre_save,
        )
        from wagtail.users.models import UserProfile

        from . import (
            signals,  # noqa: F401 - connects the Anymail receivers
            webhooks,  # noqa: F401 - registers the webhook routes' check
        )
        from .address_count_triggers import ensure_sqlite_triggers as addresses
        from .client_attributes import forget_field
        from .control import lock_runs_of_client, lock_runs_of_mailing
        from .list_count_triggers import ensure_sqlite_triggers
        from .mailing_count_triggers import ensure_sqlite_triggers as mailing_counts
        from .models import Client, ClientField, Mailing, SubscribeForm
        from .owner_count_triggers import ensure_sqlite_triggers as owner_counts
        from .scheduling import on_profile_saved
        from .sending import checks  # noqa: F401 - registers the sending checks
        from .subscribe_page_cache import drop_pages_of_form
        from .suppression import born_suppressed

        # Deleting while a run sends: one lock order with the claim
        # (mailing.sending.outbox).
        pre_delete.connect(
            lock_runs_of_mailing, sender=Mailing, dispatch_uid="mailing.lock_runs"
        )
        pre_delete.connect(
            lock_runs_of_client, sender=Client, dispatch_uid="client.lock_runs"
        )

        # A deleted opt-out re-added by hand or import stays opted out (issue 12).
        pre_save.connect(
            born_suppressed, sender=Client, dispatch_uid="client.born_suppressed"
        )

        # A deleted client field's values go too (mailing.client_attributes).
        post_delete.connect(
            forget_field, sender=ClientField, dispatch_uid="clientfield.forget"
        )

        # Schedules follow the owner's time zone, which the account page changes.
        post_save.connect(
            on_profile_saved, sender=UserProfile, dispatch_uid="mailing.zone"
        )

        # A subscribe page's cached copy shows its list's form (issue 12).
        post_save.connect(
            drop_pages_of_form, sender=SubscribeForm, dispatch_uid="form.pages.save"
        )
        post_delete.connect(
            drop_pages_of_form, sender=SubscribeForm, dispatch_uid="form.pages.delete"
        )

        # SQLite drops a table's triggers when a migration rebuilds it.
        post_migrate.connect(
            ensure_sqlite_triggers, sender=self, dispatch_uid="mailing.list_counts"
        )
        post_migrate.connect(
            addresses, sender=self, dispatch_uid="mailing.address_counts"
        )
        post_migrate.connect(
            owner_counts, sender=self, dispatch_uid="mailing.owner_counts"
        )
        post_migrate.connect(
            mailing_counts, sender=self, dispatch_uid="mailing.mailing_counts"
        )
