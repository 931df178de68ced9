from django.db import models
from django.utils.translation import gettext_lazy as _

from .ownership import OwnedQuerySet
from .runs import Attempt


class EventQuerySet(OwnedQuerySet):
    owner_lookup = "attempt__mailing__owner"


class Event(models.Model):
    """What happened to one sent email: an ESP's tracking event, an open of the
    pixel or a click through the redirect. One row per event, never updated."""

    class Kind(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        SOFT_BOUNCE = "soft_bounce", _("Soft bounce")
        HARD_BOUNCE = "hard_bounce", _("Hard bounce")
        COMPLAINED = "complained", _("Complaint")
        OPENED = "opened", _("Opened")
        CLICKED = "clicked", _("Clicked")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        REJECTED = "rejected", _("Rejected")
        DEFERRED = "deferred", _("Deferred")

    class Verdict(models.TextChoices):
        # Only opens and clicks are classified; other kinds keep NONE.
        NONE = "", _("Not applicable")
        HUMAN = "human", _("Human")
        APPLE_MPP = "apple_mpp", _("Apple Mail Privacy Protection")
        PROXY = "proxy", _("Prefetch or image proxy")
        SCANNER = "scanner", _("Security scanner")

    attempt = models.ForeignKey(
        Attempt,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("attempt"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    # The ESP's name ("postmark"), or "pixel" / "redirect" for our own tracking.
    source = models.CharField(_("source"), max_length=32)
    esp_event_id = models.CharField(_("ESP event id"), max_length=255, blank=True)
    # Same event delivered twice (ESPs retry) -> same key -> one row.
    dedupe_key = models.CharField(_("deduplication key"), max_length=64)
    description = models.TextField(_("server response"), blank=True)
    reject_reason = models.CharField(_("reject reason"), max_length=32, blank=True)
    url = models.TextField(_("URL"), blank=True)
    user_agent = models.TextField(_("user agent"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    verdict = models.CharField(
        _("classification"), max_length=16, choices=Verdict.choices, blank=True
    )
    verdict_reason = models.CharField(
        _("classified because"), max_length=255, blank=True
    )

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "dedupe_key"], name="mailing_event_once"
            ),
        ]
        indexes = [models.Index(fields=["kind", "at"])]

    def __str__(self):
        return f"{self.get_kind_display()} @ {self.at:%Y-%m-%d %H:%M}"
