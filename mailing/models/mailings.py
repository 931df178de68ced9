from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audiences import MailingList
from .messages import Message
from .ownership import OwnedQuerySet, single_line


class MailingQuerySet(OwnedQuerySet):
    def due(self, now):
        """Mailings whose next slot has come: enabled, unfinished, owner allowed.

        A mailing saved around Mailing.save (bulk_create, a data migration's
        historical model) has no next_send_at yet: its first slot is due.
        """
        never_scheduled = Q(
            next_send_at__isnull=True, status=Mailing.Status.CREATED
        ) & Q(first_send_at__lte=now)
        return self.filter(
            Q(next_send_at__lte=now) | never_scheduled,
            is_enabled=True,
            is_paused=False,
            owner__is_active=True,
            owner__is_blocked=False,
        ).exclude(status=Mailing.Status.FINISHED)


class Mailing(models.Model):
    class Periodicity(models.TextChoices):
        ONCE = "once", _("Once")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mailings",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=255, validators=[single_line])
    message = models.ForeignKey(
        Message,
        on_delete=models.PROTECT,
        related_name="mailings",
        verbose_name=_("message"),
    )
    # The audience: these lists' subscribers, or every client of the owner.
    lists = models.ManyToManyField(
        MailingList, blank=True, related_name="mailings", verbose_name=_("lists")
    )
    all_clients = models.BooleanField(
        _("all my clients"),
        default=False,
        help_text=_("Send to every client of yours, whatever their lists."),
    )
    # Narrows the lists' subscribers (or all clients) to those the segment matches.
    segment = models.ForeignKey(
        "mailing.Segment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mailings",
        verbose_name=_("segment"),
        help_text=_("Only the clients this segment matches receive the mailing."),
    )
    first_send_at = models.DateTimeField(_("first send at"))
    periodicity = models.CharField(
        _("periodicity"),
        max_length=16,
        choices=Periodicity.choices,
        default=Periodicity.ONCE,
    )
    end_at = models.DateTimeField(_("end at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.CREATED
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)
    # The owner's pause: no run of it is sent and no new one opens until resumed.
    is_paused = models.BooleanField(_("paused"), default=False)
    track_engagement = models.BooleanField(
        _("track opens and clicks"),
        default=True,
        help_text=_("Adds an open pixel and click redirects to the emails."),
    )
    next_send_at = models.DateTimeField(_("next send at"), null=True, blank=True)
    # Each recipient gets the mailing between these times of their own day (their
    # client time zone, else the owner's); both empty: whenever the run sends.
    window_start = models.TimeField(
        _("delivery window from"),
        null=True,
        blank=True,
        help_text=_("Recipient's local time. Leave both empty to send at once."),
    )
    window_end = models.TimeField(
        _("delivery window until"),
        null=True,
        blank=True,
        help_text=_("Recipient's local time; earlier than the start: past midnight."),
    )
    # Issue 14: the public archive (opt-in) and the digest of new blog posts.
    public_archive = models.BooleanField(
        _("public archive"),
        default=False,
        help_text=_(
            "Publish the sent issues on the site's archive page, addressed to nobody."
        ),
    )
    is_digest = models.BooleanField(
        _("blog digest"),
        default=False,
        help_text=_(
            "Each run sends the blog posts published since the previous run, under "
            "the message as the introduction. A run with no new post is skipped."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MailingQuerySet.as_manager()

    class Meta:
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        ordering = ["-created_at"]
        permissions = [
            ("view_all_owners", _("Can view the mailing objects of every owner")),
            ("disable_mailing", _("Can disable and re-enable any mailing")),
            # Lives here, not on accounts.User: accounts knows nothing of mailing.
            ("block_users", _("Can block and unblock users")),
            ("send_newsletter", _("Can send a blog post as a newsletter")),
        ]
        indexes = [
            models.Index(fields=["status", "is_enabled", "next_send_at"]),
            models.Index(fields=["owner", "created_at"]),
            # The manager's pages: the newest mailings of the service, the latest
            # disabled ones; without these, a sort of every mailing.
            models.Index(fields=["created_at"], name="mailing_created"),
            models.Index(
                fields=["updated_at"],
                condition=Q(is_enabled=False),
                name="mailing_disabled_recent",
            ),
        ]
        constraints = [
            # A window is two different times, or none at all.
            models.CheckConstraint(
                condition=(
                    Q(window_start__isnull=True, window_end__isnull=True)
                    | (
                        Q(window_start__isnull=False, window_end__isnull=False)
                        & ~Q(window_start=models.F("window_end"))
                    )
                ),
                name="mailing_window_both_or_none",
            ),
        ]

    def __str__(self):
        return self.name

    @classmethod
    def from_db(cls, db, field_names, values):
        from ..scheduling import schedule_snapshot

        instance = super().from_db(db, field_names, values)
        instance._loaded_schedule = schedule_snapshot(instance)
        return instance

    def save(self, *args, **kwargs):
        # The schedule's invariant lives here, not in a form: every path that saves
        # a mailing (admin, shell, API, a command) gets the right next_send_at.
        from ..scheduling import keep_schedule, schedule_snapshot

        kwargs["update_fields"] = keep_schedule(
            self, kwargs.get("update_fields"), timezone.now()
        )
        super().save(*args, **kwargs)
        self._loaded_schedule = schedule_snapshot(self)

    def refresh_from_db(self, *args, **kwargs):
        from ..scheduling import schedule_snapshot

        super().refresh_from_db(*args, **kwargs)
        self._loaded_schedule = schedule_snapshot(self)

    @property
    def has_window(self) -> bool:
        return self.window_start is not None and self.window_end is not None


class MailingCount(models.Model):
    """A change of how many mailings one owner has in one status, or (no owner)
    the whole service has; the sum of the rows is the number, what the figures
    (reports, dashboards, the home page) read instead of counting the mailings.

    Kept by the database in the transaction of each mailing change (triggers on
    the mailings table, mailing.mailing_count_triggers), as the owners' client
    counts are: rows are appended and folded now and then, and no foreign key."""

    wagtail_reference_index_ignore = True

    # None: the whole service.
    owner_id = models.BigIntegerField(_("owner"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16)
    mailings = models.BigIntegerField(_("mailings"))

    class Meta:
        verbose_name = _("mailing count")
        verbose_name_plural = _("mailing counts")
        indexes = [
            models.Index(
                fields=["owner_id", "status", "mailings"], name="mailing_count"
            )
        ]

    def __str__(self):
        return f"{self.owner_id}/{self.status}: {self.mailings}"
