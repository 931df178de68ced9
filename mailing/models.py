"""The mailing domain. Field names are an interface that operators and tools use."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from wagtail.fields import RichTextField

from .rendering import sanitise_rich_text

no_line_breaks = RegexValidator(
    r"[\r\n]",
    inverse_match=True,
    message=_("Line breaks are not allowed here."),
)


def sees_every_owner(user) -> bool:
    return user.is_superuser or user.has_perm("mailing.view_all_owners")


class OwnedQuerySet(models.QuerySet):
    owner_lookup = "owner"

    def for_user(self, user):
        """The one ownership rule: what `user` may see. Managers see every owner."""
        if not user.is_authenticated or not user.is_active or user.is_blocked:
            return self.none()
        if sees_every_owner(user):
            return self
        return self.filter(**{self.owner_lookup: user})


class MailingOwnedQuerySet(OwnedQuerySet):
    owner_lookup = "mailing__owner"


class MailingQuerySet(OwnedQuerySet):
    def due(self, now):
        """Mailings whose next slot has come: enabled, unfinished, owner allowed."""
        return self.filter(
            next_send_at__lte=now,
            is_enabled=True,
            owner__is_active=True,
            owner__is_blocked=False,
        ).exclude(status=Mailing.Status.FINISHED)


class Client(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="clients",
        verbose_name=_("owner"),
    )
    email = models.EmailField(_("email"), max_length=254)
    full_name = models.CharField(
        _("full name"), max_length=255, validators=[no_line_breaks]
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)
    suppressed_reason = models.CharField(
        _("suppressed because"), max_length=255, blank=True
    )

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                "owner", Lower("email"), name="mailing_client_owner_email_ci"
            ),
        ]
        indexes = [models.Index(fields=["owner", "created_at"])]

    def __str__(self):
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email


class Message(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("owner"),
    )
    subject = models.CharField(
        _("subject"), max_length=255, validators=[no_line_breaks]
    )
    body = models.TextField(_("plain-text body"))
    html_body = RichTextField(_("HTML body"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "created_at"])]

    def save(self, *args, **kwargs):
        self.html_body = sanitise_rich_text(self.html_body)
        super().save(*args, **kwargs)

    def __str__(self):
        return self.subject


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
    name = models.CharField(_("name"), max_length=255)
    message = models.ForeignKey(
        Message,
        on_delete=models.PROTECT,
        related_name="mailings",
        verbose_name=_("message"),
    )
    clients = models.ManyToManyField(
        Client, related_name="mailings", verbose_name=_("recipients")
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
    next_send_at = models.DateTimeField(_("next send at"), null=True, blank=True)
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
        ]
        indexes = [
            models.Index(fields=["status", "is_enabled", "next_send_at"]),
            models.Index(fields=["owner", "created_at"]),
        ]

    def __str__(self):
        return self.name


class MailingRun(models.Model):
    """One sending of a mailing: a scheduled slot, or a manual "send now"."""

    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        MANUAL = "manual", _("Manual")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    mailing = models.ForeignKey(
        Mailing,
        on_delete=models.CASCADE,
        related_name="runs",
        verbose_name=_("mailing"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    slot = models.DateTimeField(_("slot"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField(_("recipients"), default=0)
    sent_count = models.PositiveIntegerField(_("sent"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Touched by the consumer after each batch: the sweeper re-enqueues a run whose
    # consumer has gone quiet.
    heartbeat_at = models.DateTimeField(_("last activity"), null=True, blank=True)

    objects = MailingOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("mailing run")
        verbose_name_plural = _("mailing runs")
        ordering = ["-created_at"]
        constraints = [
            # Two consumers, or a retried task, cannot open one scheduled slot twice.
            models.UniqueConstraint(
                fields=["mailing", "slot"],
                condition=models.Q(kind="scheduled"),
                name="mailing_run_one_per_slot",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.mailing} @ {self.slot:%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class Attempt(models.Model):
    """One recipient of one run: the outbox row and the log entry in one.

    It moves pending -> sending (committed before the mail server is called) ->
    success / failure (committed after); `unknown` marks a send whose consumer died
    mid-call, which is flagged rather than silently re-sent.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")
        UNKNOWN = "unknown", _("Unknown")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")

    run = models.ForeignKey(
        MailingRun,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("run"),
    )
    mailing = models.ForeignKey(
        Mailing,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("mailing"),
    )
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("client"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempted_at = models.DateTimeField(_("attempted at"), null=True, blank=True)
    server_response = models.TextField(_("server response"), blank=True)
    esp_message_id = models.CharField(_("ESP message id"), max_length=255, blank=True)
    tries = models.PositiveSmallIntegerField(_("tries"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # A transient failure puts the row back to pending, claimable from this time on.
    retry_at = models.DateTimeField(_("retry at"), null=True, blank=True)

    objects = MailingOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["-attempted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "client"], name="mailing_attempt_one_per_run"
            ),
        ]
        indexes = [
            models.Index(fields=["mailing", "attempted_at"]),
            models.Index(fields=["run", "status"]),
            models.Index(fields=["status", "claimed_at"]),
            models.Index(fields=["esp_message_id"]),
        ]

    def __str__(self):
        return f"{self.mailing} → {self.client.email}: {self.get_status_display()}"
