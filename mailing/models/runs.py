from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .clients import Client
from .mailings import Mailing
from .ownership import MailingOwnedQuerySet


class SendingRecord:
    """A record of sending, not content: Wagtail's reference index leaves it out.

    Runs, attempts and events come by the million; indexing them would cost
    queries per row on every save and delete (4 per attempt when a mailing is
    deleted) for a usage listing nobody reads.
    """

    wagtail_reference_index_ignore = True


class MailingRun(SendingRecord, models.Model):
    """One sending of a mailing: a scheduled slot, or a manual "send now"."""

    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        MANUAL = "manual", _("Manual")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")
        # A digest run with no new blog post: nothing to send (issue 14).
        SKIPPED = "skipped", _("Skipped")
        # Issue 10: held by its owner, pending rows kept for resume.
        PAUSED = "paused", _("Paused")
        # Stopped by its owner or by moderation; its pending rows are cancelled.
        CANCELLED = "cancelled", _("Cancelled")

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
    cancelled_count = models.PositiveIntegerField(_("cancelled"), default=0)
    # Handed to the mail server by a consumer that died before the answer (issue 18).
    unknown_count = models.PositiveIntegerField(_("unknown"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Touched by the consumer after each batch: the sweeper re-enqueues a run whose
    # consumer has gone quiet.
    heartbeat_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    # The email as this run sends it (rendering.PreparedMessage's fields), kept
    # when it opens: its web version and archive copy never change after.
    content = models.JSONField(_("email as sent"), default=dict, blank=True)
    # While the outbox is still being written, chunk by chunk of client ids
    # (mailing.sending.outbox_writing): the last client id it covers. Null once
    # complete; until then the run is not finished, and a dead writer's run is
    # resumed here.
    outbox_through = models.BigIntegerField(
        _("outbox written through client"), null=True, blank=True, editable=False
    )

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
            # One manual run open at a time: a second "send now" (a double click,
            # two send_mailing processes) would mail every recipient twice.
            # `paused` is open too: resuming it must not meet a newer run.
            models.UniqueConstraint(
                fields=["mailing"],
                condition=models.Q(
                    kind="manual", status__in=["pending", "running", "paused"]
                ),
                name="mailing_run_one_open_manual",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The service's last 30 days: a range over every status.
            models.Index(fields=["created_at"], name="run_created"),
        ]

    def __str__(self):
        return f"{self.mailing} @ {timezone.localtime(self.slot):%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


# Rows sent or tried at least once (an outbox row waits with attempted_at NULL).
TRIED = models.Q(attempted_at__isnull=False)
# Rows a run still has to send: waiting, or held by a consumer.
UNSETTLED = ["pending", "claimed", "sending"]


class Attempt(SendingRecord, models.Model):
    """One recipient of one run: the outbox row and the log entry in one.

    It moves pending -> claimed (by a consumer's lease) -> sending (committed right
    before its group goes out, or while the group before it is on the wire) -> success /
    failure (committed after); `unknown` marks a send whose consumer died mid-call,
    which is flagged rather than silently re-sent (mailing.sending.outbox).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CLAIMED = "claimed", _("Claimed")
        SENDING = "sending", _("Sending")
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")
        UNKNOWN = "unknown", _("Unknown")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")
        # Never sent: its run was cancelled, or it could no longer be sent
        # (unsubscribed, suppressed, removed from the audience, owner blocked).
        CANCELLED = "cancelled", _("Cancelled")

    # No index of their own: each leads a composite index below, which serves
    # the same lookups (joins, cascades); every send rewrites each index of the
    # row (its status changes, so no update is HOT), one fewer is one less write.
    run = models.ForeignKey(
        MailingRun,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("run"),
        db_index=False,
    )
    # No constraint in the database: the run's own foreign key already holds the
    # mailing (the row is written with its run's mailing), and checking it again
    # cost each outbox row a lookup at commit. Deleting a mailing still deletes
    # its attempts: on_delete is Django's, not the database's.
    mailing = models.ForeignKey(
        Mailing,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("mailing"),
        db_index=False,
        db_constraint=False,
    )
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("client"),
        db_index=False,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempted_at = models.DateTimeField(_("attempted at"), null=True, blank=True)
    server_response = models.TextField(_("server response"), blank=True)
    esp_message_id = models.CharField(_("ESP message id"), max_length=255, blank=True)
    tries = models.PositiveSmallIntegerField(_("tries"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # The ConsumerLease that claimed the row: its fencing token (no foreign key, the
    # lease row goes once its rows are settled).
    lease = models.BigIntegerField(_("consumer lease"), null=True, blank=True)
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
            # Rows held by a consumer (reaping a lease, the sweeper's stuck sends):
            # only in-flight rows, so writing a row pending or settled skips it.
            models.Index(
                fields=["lease", "claimed_at"],
                condition=models.Q(status__in=["claimed", "sending"]),
                name="attempt_held",
            ),
            # Webhooks look rows up by the ESP's id, which only a sent row has.
            models.Index(
                fields=["esp_message_id"],
                condition=~models.Q(esp_message_id=""),
                name="attempt_esp_id",
            ),
            # The listing pages by keyset (attempted_at DESC, id DESC; mailing.keyset):
            # one index in that order for every filter it takes, so a page never
            # sorts the table. Only rows sent or tried: an outbox row is written
            # and claimed without attempted_at, and leaving it out of these four
            # spares each such write four index entries. The rows not tried yet
            # are listed from attempt_unsent, by id.
            *(
                models.Index(
                    fields=[*lead, "-attempted_at", "-id"],
                    condition=TRIED,
                    name=name,
                )
                for name, lead in (
                    ("attempted_recent", []),
                    ("attempted_mailing", ["mailing"]),
                    ("attempted_run", ["run"]),
                    # A mailing's latest failures (its report) and the listing by both.
                    ("attempted_mailing_status", ["mailing", "status"]),
                )
            ),
            # Every row by status, tried or not: a status's untried rows (pending,
            # cancelled) are a range of it too, in id order.
            models.Index(
                fields=["status", "-attempted_at", "-id"], name="attempt_status_recent"
            ),
            models.Index(
                fields=["mailing", "id"],
                condition=models.Q(attempted_at__isnull=True),
                name="attempt_unsent",
            ),
            # Every row of a client, tried or not: it also serves the foreign key
            # (deleting a client).
            models.Index(
                fields=["client", "-attempted_at", "-id"], name="attempt_client_recent"
            ),
            # Keyset pages of one run's or one mailing's attempts, newest first
            # (the API's cursor): an index range instead of sorting every row.
            models.Index(fields=["run", "id"], name="mailing_attempt_run_keyset"),
            models.Index(fields=["mailing", "id"], name="mailing_attempt_mail_keyset"),
            # A run's rows not settled yet: the claim takes the next pending ones
            # in id order (one group read, not every pending row of the run sorted
            # again for each group, quadratic in the run), and whether a run is
            # done, its held rows and its cancellation read the same few. One
            # index where (run, status) and a pending-only one were two: each
            # outbox row writes one index entry fewer (issue 12's run open), and
            # the claim steps over at most the rows in flight.
            models.Index(
                fields=["run", "id"],
                condition=models.Q(status__in=UNSETTLED),
                name="attempt_unsettled",
            ),
        ]

    def __str__(self):
        return f"{self.mailing} → {self.client.email}: {self.get_status_display()}"

    def response_shown(self) -> str:
        """The server response in the reader's language: our own notes are stored
        as their English msgid (a server's text is no msgid and stays as it is)."""
        return gettext(self.server_response) if self.server_response else ""

    response_shown.short_description = _("server response")
