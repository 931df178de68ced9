"""The owner's suppression list (issue 12): addresses never to mail again, kept by
a hash of the normalised address so that it outlives the client it came from."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .ownership import OwnedQuerySet, single_line


class Suppression(models.Model):
    class Reason(models.TextChoices):
        UNSUBSCRIBE = "unsubscribe", pgettext_lazy("suppression", "Unsubscribed")
        HARD_BOUNCE = "hard_bounce", pgettext_lazy("suppression", "Hard bounce")
        COMPLAINT = "complaint", pgettext_lazy("suppression", "Complaint")
        MANUAL = "manual", pgettext_lazy("suppression", "Added by hand")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="suppressions",
        verbose_name=_("owner"),
    )
    # sha256 of the normalised address (mailing.suppression.address_hash).
    address_hash = models.CharField(_("address hash"), max_length=64)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    detail = models.CharField(
        _("detail"), max_length=255, blank=True, validators=[single_line]
    )
    created_at = models.DateTimeField(_("suppressed at"), default=timezone.now)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "address_hash"], name="mailing_suppression_once"
            ),
        ]

    def __str__(self):
        return f"{self.get_reason_display()} · {self.address_hash[:12]}…"


class SuppressionRemoval(models.Model):
    """Who lifted a suppression, when and why: the entry itself is gone."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="suppression_removals",
        verbose_name=_("owner"),
    )
    address_hash = models.CharField(_("address hash"), max_length=64)
    reason = models.CharField(
        _("reason it was suppressed"),
        max_length=16,
        choices=Suppression.Reason.choices,
    )
    note = models.TextField(_("why it was removed"))
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("removed by"),
    )
    removed_at = models.DateTimeField(_("removed at"), default=timezone.now)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("suppression removal")
        verbose_name_plural = _("suppression removals")
        ordering = ["-removed_at"]

    def __str__(self):
        return f"{self.address_hash[:12]}… – {self.removed_at:%Y-%m-%d}"
