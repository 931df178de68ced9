from django.db import models
from django.utils.translation import gettext_lazy as _

from .ownership import OwnedQuerySet
from .runs import Attempt, SendingRecord


class EventQuerySet(OwnedQuerySet):
    owner_lookup = "attempt__mailing__owner"


class MailingOwnedCountsQuerySet(OwnedQuerySet):
    owner_lookup = "run__mailing__owner"


class Event(SendingRecord, models.Model):
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
        # mailing_event_once (attempt, dedupe_key) serves lookups by attempt: a
        # second index only cost every recorded event one more insert.
        db_index=False,
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


class TrackedLink(SendingRecord, models.Model):
    """A link as a run sent it. A click redirect names a row of its own run and
    goes nowhere else: a URL that was not in the email cannot be asked for."""

    run = models.ForeignKey(
        "mailing.MailingRun",
        on_delete=models.CASCADE,
        related_name="tracked_links",
        verbose_name=_("run"),
    )
    url = models.TextField(_("URL"))
    # A unique index over long text fails past ~2.7 kB: the digest is the key.
    url_digest = models.CharField(_("URL digest"), max_length=64)

    class Meta:
        verbose_name = _("tracked link")
        verbose_name_plural = _("tracked links")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "url_digest"], name="mailing_tracked_link_once"
            ),
        ]

    def __str__(self):
        return self.url


class RunDayCounts(SendingRecord, models.Model):
    """Event counts per run and day (UTC), kept in the event's transaction so the
    reports never count the events table; `manage.py rebuild_counters` rebuilds
    them from the events."""

    run = models.ForeignKey(
        "mailing.MailingRun",
        on_delete=models.CASCADE,
        related_name="day_counts",
        verbose_name=_("run"),
    )
    day = models.DateField(_("day"))
    delivered = models.PositiveIntegerField(_("delivered"), default=0)
    soft_bounces = models.PositiveIntegerField(_("soft bounces"), default=0)
    hard_bounces = models.PositiveIntegerField(_("hard bounces"), default=0)
    # Of hard_bounces, those an SMTP server refused at send time (mailing.bounces):
    # their attempts also count as failed, which reports must not add twice.
    send_bounces = models.PositiveIntegerField(_("refused at send time"), default=0)
    complaints = models.PositiveIntegerField(_("complaints"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    deferred = models.PositiveIntegerField(_("deferred"), default=0)
    unsubscribes = models.PositiveIntegerField(_("unsubscribes"), default=0)
    opens = models.PositiveIntegerField(_("opens"), default=0)
    human_opens = models.PositiveIntegerField(_("human opens"), default=0)
    clicks = models.PositiveIntegerField(_("clicks"), default=0)
    human_clicks = models.PositiveIntegerField(_("human clicks"), default=0)

    objects = MailingOwnedCountsQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily counts of a run")
        verbose_name_plural = _("daily counts of runs")
        constraints = [
            models.UniqueConstraint(fields=["run", "day"], name="mailing_counts_once"),
        ]
        # The service's last 30 days of events, not every run's every day.
        indexes = [models.Index(fields=["day"], name="counts_day")]

    def __str__(self):
        return f"{self.run_id} @ {self.day}"


class RunHourCounts(SendingRecord, models.Model):
    """Sends, opens and clicks per run and hour (UTC): a mailing's timeline of its
    first 48 hours, read from a few dozen rows at any size. Events are counted in
    their own transaction (mailing.counters), sends as the outbox settles them."""

    run = models.ForeignKey(
        "mailing.MailingRun",
        on_delete=models.CASCADE,
        related_name="hour_counts",
        verbose_name=_("run"),
    )
    hour = models.DateTimeField(_("hour"))
    # Defaults in the database: an upsert names only the columns it adds to.
    sends = models.PositiveIntegerField(_("sends"), db_default=0)
    opens = models.PositiveIntegerField(_("opens"), db_default=0)
    human_opens = models.PositiveIntegerField(_("human opens"), db_default=0)
    clicks = models.PositiveIntegerField(_("clicks"), db_default=0)
    human_clicks = models.PositiveIntegerField(_("human clicks"), db_default=0)

    objects = MailingOwnedCountsQuerySet.as_manager()

    class Meta:
        verbose_name = _("hourly counts of a run")
        verbose_name_plural = _("hourly counts of runs")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "hour"], name="mailing_hour_counts_once"
            ),
        ]

    def __str__(self):
        return f"{self.run_id} @ {self.hour:%Y-%m-%d %H:00}"
