"""The sending pipeline: from "Send now" to the Attempt row's result, in one walk.

1. "Send now" (the admin's button, the API, `manage.py send_mailing`) calls
   services.send_now -> check_may_send -> open_manual_run -> services.open_run:
   the MailingRun row with the email as it opens (its content snapshot) and the
   outbox cursor, in the caller's transaction. A scheduled run comes the same way
   from services.open_scheduled_runs.
2. services.write_and_enqueue writes the outbox after that transaction:
   outbox_writing.write_outbox inserts one `pending` Attempt per recipient, chunk
   by chunk (each committed), and services.enqueue_run wakes SENDING_TASKS_PER_RUN
   Huey tasks (tasks.send_run) after the first chunk, so sending starts while the
   rest is written.
3. send_run (here, one per consumer): loads the run's email once (RunJob), takes
   a consumer lease (leases.Lease, the fencing token on every row it holds) and
   opens a SenderPool (delivery): one thread and one connection per
   SENDING_CONCURRENCY, with the transport RunJob.transport chose from the
   backend's declared capabilities (never its class).
4. _pump keeps every connection busy, a group on the wire and (sending one by
   one) one queued behind it: _next_group records the finished results and
   claims the next group straight to `sending` in one committed statement
   (outbox.exchange, fenced by the lease, re-checking run, mailing, owner and
   client), RunJob.screen fails unsendable addresses alone, and pool.send hands
   the rows to a sender thread.
5. The transport, in that thread: delivery.deliver builds each email right
   before its piece goes out (RunJob.build: mime.RunWire's bytes for our
   SMTP backend, sent pipelined by pipelining; an AnymailMessage for any other
   backend, one API call each), or esp.EspBatches sends one API call per ESP
   batch. policy turns every answer or exception into an Outcome per row; nothing
   there touches the database.
6. Settle: the Outcomes return to the main thread and go out with the next
   exchange (or _settle): outbox.result_rows writes the Attempt row as `success`,
   `failure`, or `pending` again with retry_at from policy.retry_at, bumps the
   run's counts and records hard bounces, all fenced by the lease.
7. _rest_of_run, when nothing is left to claim here: drop_unsendable cancels rows
   that may no longer go out, _seconds_to_next_retry waits for a near retry or
   _schedule_retry sets a task for a far one, and send_run closes the run
   (services.finish_run). A consumer that dies leaves its lease to lapse;
   services.sweep_stalled_runs reaps it (leases.reap_lapsed) and re-enqueues.
"""

import dataclasses
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from datetime import datetime
from email.utils import formataddr

from anymail.message import AnymailMessage
from django.conf import settings
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import list_unsubscribe, return_path, tokens
from ..addresses import screen
from ..control import OPEN_RUN, is_still_sending
from ..issues import WEB_VERSION_SALT, prepared_for, web_version_url
from ..models import Attempt, Client, MailingRun
from ..ratelimit import RateLimiter
from ..rendering import PreparedMessage
from ..tracking import add_tracking, tracking_wanted
from ..unsubscribe import (
    TokenMaker,
    sender_domain,
    unsubscribe_mailto,
    unsubscribe_url,
)
from . import capabilities, leases
from .delivery import Outbound, Outcome, SenderPool
from .esp import EspBatches
from .mime import RunWire, envelope_sender, list_id, mailing_headers
from .outbox import analyse_if_stale, drop_unsendable, exchange

TOKEN_MARK = "TOKEN-MARK"


class RunJob:
    """What one run needs to build each email, loaded once per run.

    A backend that accepts bytes (Vestnik's SMTP) gets each email written by the
    MIME builder from parts prepared once per run (sending.mime); any other (an
    ESP through Anymail) gets an AnymailMessage with metadata and tags.
    """

    def __init__(self, run: MailingRun):
        self.run_id = run.pk
        self.mailing_id = run.mailing_id
        self.prepared: PreparedMessage = prepared_for(run)
        self.tracking = tracking_wanted(run.mailing)
        if self.tracking:
            html = add_tracking(self.prepared.html, run.pk)
            self.prepared = dataclasses.replace(self.prepared, html=html)
        # The owner's confirmed sender identity, or the site's address.
        self.from_email = self.prepared.from_email
        self.reply_to = self.prepared.reply_to
        self.domain = sender_domain()
        self.make_token = TokenMaker()
        # reverse() and address parsing once per run, not once per recipient.
        self.url_prefix, self.url_suffix = unsubscribe_url(TOKEN_MARK).split(TOKEN_MARK)
        self.make_web_token = TokenMaker(WEB_VERSION_SALT)
        self.web_prefix, self.web_suffix = web_version_url(TOKEN_MARK).split(TOKEN_MARK)
        self.mailto_prefix = unsubscribe_mailto("")
        # The footer's "leave this list only" link names the mailing's lists.
        self.list_ids = list_unsubscribe.mailing_list_ids(run.mailing)
        self.make_list_token = list_unsubscribe.token_maker()
        self.list_prefix, self.list_suffix = list_unsubscribe.list_unsubscribe_url(
            TOKEN_MARK
        ).split(TOKEN_MARK)
        self.list_id = list_id(run.mailing_id, self.domain)
        self.capabilities = capabilities.current()
        self.tags = ["vestnik", f"mailing-{self.mailing_id}"]
        # Client id -> attributes, for merge tags (load_attributes).
        self.attributes: dict[int, dict] = {}
        self.wire = None
        if self.capabilities.accepts_bytes:
            self.wire = RunWire(self.prepared, self.from_email, self.reply_to)
            self.envelope_from = envelope_sender()

    def screen(self, rows: list[tuple]) -> tuple[list[tuple], list[Outcome]]:
        """(rows to send, failures): a row that cannot be sent fails alone.

        Addresses that reached the database without the input checks (shell, data
        migration) are normalised here as at input; the rest of the group is sent.
        """
        sendable, refused = screen(rows, email_at=3, name_at=4)
        if self.prepared.uses_attributes:
            self.load_attributes(sendable)
        failures = [
            Outcome(
                row[0],
                row[1],
                False,
                False,
                _("Not sent: %(reason)s") % {"reason": reason},
            )
            for row, reason in refused
        ]
        return sendable, failures

    def load_attributes(self, rows: list[tuple]) -> None:
        """The group's client attributes for its merge tags, in one query; each
        is taken (popped) by build, in the sending thread."""
        ids = [row[2] for row in rows]
        self.attributes.update(
            Client.objects.filter(pk__in=ids).values_list("pk", "attributes")
        )

    def links(
        self, attempt_id: int, client_id: int, attempt_token: str = ""
    ) -> "RecipientLinks":
        """What differs per recipient besides name and address (`attempt_token`:
        the attempt's token, when the caller has made it already)."""
        unsubscribe_token = self.make_token(client_id)
        url = self.url_prefix + unsubscribe_token + self.url_suffix
        web_token = self.make_web_token([self.run_id, client_id])
        return RecipientLinks(
            unsubscribe_url=url,
            web_url=self.web_prefix + web_token + self.web_suffix,
            header=f"<{url}>, <{self.mailto_prefix}{unsubscribe_token}>",
            tracking=(attempt_token or tokens.attempt_token(attempt_id))
            if self.tracking
            else "",
            list_url=self.list_url(client_id),
        )

    def list_url(self, client_id: int) -> str:
        if not self.list_ids:
            return ""
        token = self.make_list_token([client_id, self.list_ids])
        return self.list_prefix + token + self.list_suffix

    def common_headers(self) -> dict[str, str]:
        """The headers every recipient of a batch shares (sending.mime)."""
        return mailing_headers(self.list_id)

    @staticmethod
    def recipient(full_name: str, email: str) -> str:
        return formataddr((full_name, email))

    def build(self, row: tuple) -> Outbound:
        attempt_id, tries, client_id, email, full_name = row
        token = tokens.attempt_token(attempt_id)
        links = self.links(attempt_id, client_id, token)
        attributes = self.attributes.pop(client_id, None)
        # Deterministic: a send repeated after a crash carries the same id, so
        # receivers can tell it is the same email.
        message_id = tokens.token_message_id(token, self.domain)
        headers = mailing_headers(self.list_id, links.header, message_id)
        if self.wire is not None:
            data = self.wire.build(
                full_name,
                email,
                links.unsubscribe_url,
                headers,
                links.web_url,
                links.tracking,
                attributes,
                links.list_url,
            )
            if data is not None:
                sender = self.envelope_sender(attempt_id)
                return Outbound(
                    attempt_id, tries, email, None, message_id, data, sender
                )
        rendered = self.prepared.render(
            full_name,
            email,
            links.unsubscribe_url,
            links.web_url,
            links.tracking,
            attributes,
            links.list_url,
        )
        message = build_message(
            rendered, self.from_email, self.recipient(full_name, email), self.reply_to
        )
        message.extra_headers.update(headers)
        # Only what the backend accepts (sending.capabilities): never a refusal.
        if self.capabilities.metadata:
            message.metadata = tokens.esp_metadata(attempt_id, self.run_id)
        message.tags = self.capabilities.tags(self.tags)
        if self.wire is not None:  # SMTP; an ESP keeps its own return path
            message.envelope_sender = self.envelope_sender(attempt_id)
        return Outbound(attempt_id, tries, email, message, message_id)

    def envelope_sender(self, attempt_id: int) -> str:
        """MAIL FROM over SMTP: the attempt's VERP address, or the site's."""
        return return_path.envelope_sender(attempt_id, self.envelope_from)

    def transport(self):
        """The ESP's batch transport where it has batch sending, else None."""
        if self.capabilities.batch is None or self.wire is not None:
            return None
        if self.prepared.uses_attributes:
            return None  # an ESP's merge fields carry no attributes: one by one
        return EspBatches(self, self.capabilities)

    def group_size(self, connections: int) -> int:
        """Rows per claim: SENDING_BATCH_SIZE / (2 x connections), shared by the
        groups claimed for each connection, or a full ESP batch, so one API call
        carries as many recipients as the ESP allows."""
        group = -(-settings.SENDING_BATCH_SIZE // (2 * connections))
        if self.capabilities.max_recipients > 1:
            return max(group, self.capabilities.max_recipients)
        return group // self.groups_per_connection(connections)

    def groups_per_connection(self, connections: int) -> int:
        """Groups claimed for one connection: the one on the wire and, sending one
        by one (SMTP, an ESP without batches), one queued behind it, so the
        connection never waits for the database between groups. Each is half of
        what one alone would be: a kill still leaves at most SENDING_BATCH_SIZE / 2
        rows `sending` (issue 18). An ESP batch stays whole (halving it would
        double the API calls) and alone: the database works in the call's latency.
        """
        group = -(-settings.SENDING_BATCH_SIZE // (2 * connections))
        return 1 if self.capabilities.max_recipients > 1 or group < 2 else 2


# Not frozen: a frozen dataclass sets each field through object.__setattr__,
# twice the cost of making one, and one is made per recipient.
@dataclasses.dataclass(slots=True)
class RecipientLinks:
    unsubscribe_url: str
    web_url: str
    header: str  # List-Unsubscribe
    tracking: str  # the attempt token in tracked links, or ""
    list_url: str = ""  # leave the mailing's lists only (list_unsubscribe)


def build_message(
    rendered, from_email: str, to: str, reply_to: str = ""
) -> AnymailMessage:
    message = AnymailMessage(
        subject=rendered.subject,
        body=rendered.text,
        from_email=from_email,
        to=[to],
        reply_to=[reply_to] if reply_to else None,
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


# --- Sending a run ----------------------------------------------------------------


def send_run(run_id: int) -> None:
    """Send what is pending in the run; any number of consumers may share it."""
    # Opening and closing runs is campaign control, which imports this module.
    from ..services import finish_run

    run = MailingRun.objects.select_related("mailing__message").get(pk=run_id)
    if run.status not in OPEN_RUN or run.mailing.is_paused:
        return
    now = timezone.now()
    MailingRun.objects.filter(pk=run_id, started_at__isnull=True).update(started_at=now)
    MailingRun.objects.filter(pk=run_id, status=MailingRun.Status.PENDING).update(
        status=MailingRun.Status.RUNNING, heartbeat_at=now
    )
    analyse_if_stale(run.total)
    job = RunJob(run)
    limiter = RateLimiter.from_settings()
    concurrency = settings.SENDING_CONCURRENCY
    owner_id, transport = run.mailing.owner_id, job.transport()
    lease = leases.Lease(timezone.now())
    try:
        with SenderPool(concurrency, owner_id, limiter, transport) as pool:
            done = _pump(job, pool, lease)
    finally:
        leases.release(lease.id)
    if done:
        finish_run(run_id, timezone.now())


def _pump(job: RunJob, pool: SenderPool, lease: leases.Lease) -> bool:
    """Keep each connection busy: a group on the wire and one queued behind it
    (RunJob.groups_per_connection).

    A group that finishes is replaced by one statement that records its results and
    claims the next rows straight to `sending` (committed, under this consumer's lease;
    outbox.exchange) while the connection sends the group queued behind it: one
    connection sending SMTP no longer waits for the database between groups. The claim
    checks the run and each row, so a pause, cancel or block takes effect on everything
    not yet claimed, and a kill leaves `unknown` only the groups claimed for the
    connections (at most SENDING_BATCH_SIZE / 2 rows). One write per row before its
    send, not a claim ahead and a hand-over: each write of an Attempt row touches every
    index of the table, and that was the larger part of the database's work per email.
    The main thread only waits for the sender threads, so it renews the lease however
    slow the server is (sending.leases).
    Returns False when the run stopped (paused, cancelled), the lease was lost,
    or the rest waits for a later retry (scheduled as a task).
    """
    group = job.group_size(pool.size)
    in_flight = pool.size * job.groups_per_connection(pool.size)
    running: set[Future] = set()
    finished: list = []
    exhausted = False
    after = 0  # the claim cursor: the last id this consumer claimed
    while lease.beat():
        if not exhausted and len(running) < in_flight:
            sent, after = _next_group(job, pool, lease.id, group, finished, after)
            running, exhausted = running | sent, not after
            continue
        if running:
            beat = settings.SENDING_LEASE_HEARTBEAT
            done, running = wait(running, timeout=beat, return_when=FIRST_COMPLETED)
            finished += [outcome for future in done for outcome in future.result()]
            exhausted = exhausted and not done
            continue
        if finished:
            _settle(job.run_id, lease.id, finished)
            continue
        over = _rest_of_run(job.run_id, lease.id)
        if over is not None:
            return over
        exhausted = False
    return False  # the lease lapsed: these rows are someone else's now


def _next_group(
    job: RunJob, pool: SenderPool, lease_id: int, size: int, finished: list, after: int
) -> tuple[set[Future], int]:
    """Record `finished` and send the next group, claimed after the cursor
    `after`, on a free connection: (its future, or none; the new cursor, 0 when
    the run had no row left to claim). Rows that cannot be sent join `finished`,
    settled with the next exchange."""
    settle = list(finished)
    finished.clear()
    now = timezone.now()
    swap = exchange(
        job.run_id, lease_id, now, settle, size=size, to_wire=True, after=after
    )
    if after and not swap.claimed:
        # Nothing past the cursor; rows before it may be pending again (a retry
        # due, a lapsed lease's rows returned, a chunk committed late).
        swap = exchange(job.run_id, lease_id, now, size=size, to_wire=True)
    rows, refused = job.screen(swap.claimed)
    finished += refused
    # The sending thread builds the emails itself (see delivery.deliver).
    sent = {pool.send(rows, job.build)} if rows else set()
    return sent, max((row[0] for row in swap.claimed), default=0)


def _settle(run_id: int, lease_id: int, finished: list) -> None:
    settle = list(finished)
    finished.clear()
    exchange(run_id, lease_id, timezone.now(), settle)


def _rest_of_run(run_id: int, lease_id: int) -> bool | None:
    """Nothing claimed or on the wire here. None: claim again (after waiting for a
    retry time or for another consumer's rows); True: the run is over; False: it
    stopped, or the rest waits for a scheduled retry."""
    if not is_still_sending(run_id):
        return False  # paused or cancelled; resume enqueues the run again
    drop_unsendable(run_id)
    wait_for = _seconds_to_next_retry(run_id, timezone.now(), lease_id)
    if wait_for is None:
        return True
    if wait_for > settings.SENDING_RETRY_WAIT_MAX:
        _schedule_retry(run_id, wait_for)
        return False
    time.sleep(max(wait_for, 0.05))
    return None


# How often a consumer with nothing left looks again while other consumers still
# hold rows of the run (they finish them, or their lease lapses and they return).
HELD_ELSEWHERE_POLL = 0.5


def _seconds_to_next_retry(
    run_id: int, now: datetime, lease_id: int | None = None
) -> float | None:
    """None when nothing is pending; else how long until a row may be claimed."""
    pending = Attempt.objects.filter(run_id=run_id, status=Attempt.Status.PENDING)
    earliest = pending.aggregate(at=Min("retry_at"))["at"]
    if earliest is not None:
        return max((earliest - now).total_seconds(), 0.0)
    if pending.exists():
        return 0.0
    held = Attempt.objects.filter(
        run_id=run_id, status__in=leases.HELD, lease__isnull=False
    ).exclude(lease=lease_id)
    return HELD_ELSEWHERE_POLL if held.exists() else None


def _schedule_retry(run_id: int, wait: float) -> None:
    from ..tasks import send_run as send_run_task

    send_run_task.schedule((run_id,), delay=wait)
