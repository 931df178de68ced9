"""The history of owned objects, kept apart so that it can be filtered by owner.

Wagtail keeps the history of every non-page model in one table (ModelLogEntry) and
shows its site history report by content type: anyone with a permission on clients
saw every owner's client labels, actions and actors. Owned models log here instead
(`register_log_actions` in wagtail_hooks), with the owner written on each entry, so
the report, its exports and every filter of it go through the one ownership rule;
an entry stays with its owner after the object is deleted.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.models import BaseLogEntry
from wagtail.models.audit_log import LogEntryQuerySet, ModelLogEntryManager

from .ownership import owned_by, owner_id_of


class OwnedLogEntryQuerySet(LogEntryQuerySet):
    def for_user(self, user):
        return owned_by(self, user)


class OwnedLogEntryManager(ModelLogEntryManager):
    def get_queryset(self):
        return OwnedLogEntryQuerySet(self.model, using=self._db)

    def log_action(self, instance, action, **kwargs):
        kwargs.setdefault("owner_id", owner_id_of(instance))
        return super().log_action(instance, action, **kwargs)

    def viewable_by_user(self, user):
        return self.get_queryset().for_user(user)


class OwnedLogEntry(BaseLogEntry):
    object_id = models.CharField(max_length=255, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # An entry outlives its owner's account for the managers' eyes only.
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )

    objects = OwnedLogEntryManager()

    class Meta(BaseLogEntry.Meta):
        ordering = ["-timestamp", "-id"]
        # Named as Wagtail names its own: the site history counts its rows by them.
        verbose_name = _("log entry")
        verbose_name_plural = _("log entries")
        indexes = [
            *BaseLogEntry.Meta.indexes,
            models.Index(fields=["owner", "-timestamp"]),
        ]
