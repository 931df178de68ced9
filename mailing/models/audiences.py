"""Lists of clients and each client's subscription to them (issue 12).

A mailing targets lists (or all of its owner's clients); who receives a run is
resolved from these rows when the run opens (mailing.audiences).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .ownership import OwnedQuerySet, single_line


class MailingList(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mailing_lists",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=255, validators=[single_line])
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("list")
        verbose_name_plural = _("lists")
        ordering = ["name"]
        indexes = [models.Index(fields=["owner", "name"])]

    def __str__(self):
        return self.name

    def members_by_status(self) -> str:
        """The list's stored counts (ListMemberCount), for its page."""
        stored = dict(self.member_counts.values_list("status", "members"))
        return ", ".join(
            f"{label}: {number_format(stored.get(status, 0), force_grouping=True)}"
            for status, label in Subscription.Status.choices
        )

    members_by_status.short_description = _("members")


class SubscriptionQuerySet(OwnedQuerySet):
    owner_lookup = "mailing_list__owner"


class Subscription(models.Model):
    # Rows by the million (imports): out of Wagtail's reference index, which would
    # cost queries per row on each save and delete (see runs.SendingRecord).
    wagtail_reference_index_ignore = True

    class Status(models.TextChoices):
        SUBSCRIBED = "subscribed", pgettext_lazy("subscription", "Subscribed")
        UNCONFIRMED = "unconfirmed", pgettext_lazy("subscription", "Unconfirmed")
        UNSUBSCRIBED = "unsubscribed", pgettext_lazy("subscription", "Unsubscribed")

    client = models.ForeignKey(
        "mailing.Client",
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name=_("client"),
        db_index=False,  # the unique (client, list) index leads with it
    )
    mailing_list = models.ForeignKey(
        MailingList,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name=_("list"),
        db_index=False,  # the members (list, status, client) index leads with it
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.SUBSCRIBED,
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "mailing_list"], name="mailing_subscription_once"
            ),
        ]
        # Counting and resolving a list's members reads only this index.
        indexes = [
            models.Index(
                fields=["mailing_list", "status", "client"],
                name="mailing_subscription_members",
            )
        ]

    def __str__(self):
        return f"{self.client} – {self.mailing_list}"


class ListMemberCount(models.Model):
    """How many of a list's subscriptions have one status: what the lists page
    and a list's page show, read in one row instead of counting a million.

    Kept by the database itself, in the transaction of each change (triggers on
    the subscriptions table, migration 0026): every path that changes a
    subscription, a cascade from a deleted client or list included, is counted
    without remembering to. `manage.py rebuild_list_counts` recounts them."""

    wagtail_reference_index_ignore = True

    # No foreign key: the list's delete trigger removes its rows, after the
    # cascade's own subscription deletes have counted themselves down.
    mailing_list = models.ForeignKey(
        MailingList,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="member_counts",
        verbose_name=_("list"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Subscription.Status.choices
    )
    members = models.BigIntegerField(_("members"), default=0)

    class Meta:
        verbose_name = _("list member count")
        verbose_name_plural = _("list member counts")
        constraints = [
            models.UniqueConstraint(
                fields=["mailing_list", "status"], name="mailing_list_count_once"
            ),
        ]

    def __str__(self):
        return f"{self.mailing_list_id} {self.status}: {self.members}"
