"""Sending mailings: the one path every sender goes through.

The scheduler, "send now", `manage.py send_mailing` and the sweeper all open runs
and send them here. Correctness rests on the database, not on Huey: a run is unique
per mailing and slot, each recipient is an Attempt row claimed before the mail
server is called, and state is committed before and after every send.
"""

import dataclasses
import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from datetime import datetime, timedelta
from email.utils import formataddr

from anymail.message import AnymailMessage
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from . import (
    audiences,
    leases,
    list_unsubscribe,
    outbox_writing,
    return_path,
    tokens,
)
from .addresses import screen
from .control import OPEN_RUN, is_still_sending
from .delivery import Outbound, Outcome, SenderPool, send_one
from .digest import digest_message, new_posts
from .issues import WEB_VERSION_SALT, prepared_for, snapshot, web_version_url
from .models import Attempt, Client, Mailing, MailingRun, Message
from .outbox import analyse_if_stale, claimable, drop_unsendable, exchange
from .ratelimit import RateLimiter
from .rendering import PreparedMessage, prepare_message
from .scheduling import (
    claim_slot,
    due_mailings,
    finish_schedule,
    mark_sent_now,
    next_slot,
)
from .sending import capabilities
from .sending.esp import EspBatches
from .sending.mime import RunWire, envelope_sender, mailing_headers
from .tracking import add_tracking, tracking_wanted
from .unsubscribe import (
    TokenMaker,
    sender_domain,
    unsubscribe_mailto,
    unsubscribe_url,
)
from .windows import hold_for_windows, waiting_for_window

logger = logging.getLogger(__name__)

TOKEN_MARK = "TOKEN-MARK"
# As the constraint mailing_run_one_open_manual reads them (`paused`: issue 10).
OPEN_MANUAL_RUN = ("pending", "running", "paused")


class SendError(Exception):
    """A send that could not happen, with a message fit to show the user."""


# --- Opening runs -----------------------------------------------------------------


def open_run(
    mailing: Mailing,
    kind: str,
    slot: datetime,
    only_clients: list[int] | None = None,
    write: bool = True,
) -> MailingRun:
    """Create the run in the caller's transaction; nothing is sent.

    A digest with no new blog post gets a `skipped` run instead: closed, no outbox.
    `only_clients` narrows the audience (resending rows left `unknown`): their
    rows are written at once. Any other outbox is written chunk by chunk
    (mailing.outbox_writing), here unless `write` is False: then the caller
    writes it after its transaction (write_and_enqueue), committing each chunk.
    """
    message = mailing.message
    if mailing.is_digest:
        posts = new_posts(mailing, slot)
        if not posts:
            return _skip_run(mailing, kind, slot)
        message = digest_message(message, posts)
    # The email is kept as the run opens it: its web version and archive copy.
    content = snapshot(prepare_message(message))
    run = MailingRun.objects.create(
        mailing=mailing,
        kind=kind,
        slot=slot,
        content=content,
        outbox_through=(
            outbox_writing.starting_cursor(mailing) if only_clients is None else None
        ),
    )
    if only_clients is not None:
        total = audiences.create_attempts(run, only_clients)
        MailingRun.objects.filter(pk=run.pk).update(
            total=total, skipped_count=len(only_clients) - total
        )
        hold_for_windows(run, timezone.now())
    elif write:
        outbox_writing.write_all(run.pk)
    run.refresh_from_db(fields=["total", "skipped_count", "outbox_through"])
    return run


def write_and_enqueue(run_id: int, chunks: int | None = None) -> None:
    """Write the rest of the run's outbox and wake its senders.

    Outside a transaction each chunk is committed as it is written and the
    senders are woken by the first of several, so sending starts while the rest
    is written; they are woken again once it is all in (a sender that found
    nothing more to claim has ended meanwhile). With `chunks` (a web request's
    "send now"), the rest after that many committed chunks goes to a task.
    """
    from .tasks import write_outbox as write_outbox_task

    committed = not transaction.get_connection().in_atomic_block
    woken = False
    for written, more in enumerate(outbox_writing.write_outbox(run_id), 1):
        if more and committed and not woken:
            enqueue_run(run_id)
            woken = True
        if more and committed and chunks is not None and written >= chunks:
            write_outbox_task(run_id)  # it wakes the senders again at its end
            return
    transaction.on_commit(lambda: enqueue_run(run_id))


def _skip_run(mailing: Mailing, kind: str, slot: datetime) -> MailingRun:
    now = timezone.now()
    run = MailingRun.objects.create(
        mailing=mailing,
        kind=kind,
        slot=slot,
        status=MailingRun.Status.SKIPPED,
        skipped_count=audiences.audience(mailing).count(),
        started_at=now,
        finished_at=now,
    )
    logger.info("digest run %s of mailing %s: no new post, skipped", run.pk, mailing.pk)
    # Its slot was the last one: the mailing is done, as after a sent run.
    transaction.on_commit(lambda: finish_schedule(mailing.pk))
    return run


def open_scheduled_runs(now: datetime) -> list[MailingRun]:
    """One scheduler pass: a run for each due mailing, enqueued once committed."""
    runs = []
    for mailing in due_mailings(now):
        run = _open_scheduled_run(mailing, now)
        if run is not None:
            runs.append(run)
    return runs


def _open_scheduled_run(mailing: Mailing, now: datetime) -> MailingRun | None:
    slot = mailing.next_send_at or mailing.first_send_at
    if mailing.end_at and slot > mailing.end_at:
        claim_slot(mailing, slot, None, Mailing.Status.FINISHED)
        return None
    following = next_slot(mailing, max(slot, now))
    try:
        with transaction.atomic():
            # Moving next_send_at only from the slot we read makes a second
            # scheduler (or a retried task) a no-op; the unique run is the backstop.
            if not claim_slot(mailing, slot, following):
                return None
            run = open_run(mailing, MailingRun.Kind.SCHEDULED, slot, write=False)
    except IntegrityError:
        # The slot already has its run (a copy saved back an old next_send_at):
        # it is done, so the schedule moves on instead of sticking to it.
        claim_slot(mailing, slot, following)
        return None
    logger.info("opened run %s of mailing %s for %s", run.pk, mailing.pk, slot)
    write_and_enqueue(run.pk)
    run.refresh_from_db()
    return run


def send_now(mailing: Mailing, requested_by) -> MailingRun:
    """A manual run ("send now"): same outbox and sender as a scheduled one.

    One manual run of a mailing is open at a time (the constraint
    mailing_run_one_open_manual); a second request is refused, naming the first.
    """
    check_may_send(mailing, requested_by)
    run = open_manual_run(mailing, schedule_sent=True)
    logger.info("manual run %s of mailing %s by %s", run.pk, mailing.pk, requested_by)
    return run


def check_may_send(mailing: Mailing, user) -> None:
    # The owner or a superuser: not the Mailing policy's "change", which editors
    # lack although they send their own newsletter mailings (mailing.newsletter).
    if not (user.is_superuser or mailing.owner_id == user.pk):
        raise PermissionDenied
    if not mailing.is_enabled:
        raise SendError(_("This mailing is disabled and cannot be sent."))
    if mailing.owner.is_blocked or not mailing.owner.is_active:
        raise SendError(_("The owner of this mailing is blocked."))


def open_manual_run(
    mailing: Mailing, schedule_sent: bool = False, only_clients=None
) -> MailingRun:
    """Open a manual run (to `only_clients` of the audience, if given), enqueued
    once committed; SendError naming the open one if there is one."""
    refuse_while_open(mailing)
    try:
        with transaction.atomic():
            run = open_run(
                mailing,
                MailingRun.Kind.MANUAL,
                timezone.now(),
                only_clients,
                write=False,
            )
            if schedule_sent:
                mark_sent_now(mailing)
    except IntegrityError:
        # Another request opened one between the check and the INSERT.
        refuse_while_open(mailing)
        raise
    write_and_enqueue(run.pk, chunks=1)  # a request's worth; a task writes the rest
    run.refresh_from_db()
    return run


def refuse_while_open(mailing: Mailing) -> None:
    """SendError naming the mailing's open manual run, if it has one."""
    run = (
        MailingRun.objects.filter(
            mailing=mailing, kind=MailingRun.Kind.MANUAL, status__in=OPEN_MANUAL_RUN
        )
        .order_by("pk")
        .first()
    )
    if run is not None:
        raise SendError(
            _(
                "Run %(run)s of this mailing, started %(started)s, is still "
                "%(status)s: wait until it ends before sending again."
            )
            % {
                "run": run.pk,
                "started": formats.date_format(
                    timezone.localtime(run.created_at), "DATETIME_FORMAT"
                ),
                "status": run.get_status_display().lower(),
            }
        )


def enqueue_run(run_id: int) -> None:
    """Several tasks per run: consumers on other cores claim batches side by side.

    Sending is CPU-bound under the GIL past a few connections; claims are
    exclusive (skip_locked), so a task finding nothing left simply ends.
    """
    from .tasks import send_run as send_run_task

    for _task in range(max(1, settings.SENDING_TASKS_PER_RUN)):
        send_run_task(run_id)


# --- Building emails --------------------------------------------------------------


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
        """Rows per claim: SENDING_BATCH_SIZE / (2 x connections), or a full ESP
        batch, so one API call carries as many recipients as the ESP allows."""
        group = -(-settings.SENDING_BATCH_SIZE // (2 * connections))
        return max(group, self.capabilities.max_recipients)


# Not frozen: a frozen dataclass sets each field through object.__setattr__,
# twice the cost of making one, and one is made per recipient.
@dataclasses.dataclass(slots=True)
class RecipientLinks:
    unsubscribe_url: str
    web_url: str
    header: str  # List-Unsubscribe
    tracking: str  # the attempt token in tracked links, or ""
    list_url: str = ""  # leave the mailing's lists only (list_unsubscribe)


def list_id(mailing_id: int, domain: str) -> str:
    """RFC 2919 List-Id: one list per mailing (SpamAssassin scores a
    List-Unsubscribe without it)."""
    return f"<mailing-{mailing_id}.{domain}>"


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
    """Keep each connection busy with one group at a time.

    A free connection gets its group from one statement that records the last
    results and claims the next rows straight to `sending` (committed, under this
    consumer's lease) right before they go out (outbox.exchange). The claim checks
    the run and each row, so a pause, cancel or block takes effect on everything
    not yet on the wire, and a kill leaves `unknown` only the groups on the wire
    (one per connection). One write per row before its send, not a claim ahead
    and a hand-over: each write of an Attempt row touches every index of the
    table, and that was the larger part of the database's work per email. The
    main thread only waits for the sender threads, so it renews the lease however
    slow the server is (mailing.leases).
    Returns False when the run stopped (paused, cancelled), the lease was lost,
    or the rest waits for a later retry (scheduled as a task).
    """
    group = job.group_size(pool.size)
    running: set[Future] = set()
    finished: list = []
    exhausted = False
    after = 0  # the claim cursor: the last id this consumer claimed
    while lease.beat():
        if not exhausted and len(running) < pool.size:
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
    from .tasks import send_run as send_run_task

    send_run_task.schedule((run_id,), delay=wait)


def finish_run(run_id: int, now: datetime) -> bool:
    """Close a run with nothing left to send; True if this call closed it."""
    unsettled = Attempt.objects.filter(
        run_id=run_id, status__in=[Attempt.Status.PENDING, *leases.HELD]
    )
    if unsettled.exists():
        return False
    run = MailingRun.objects.get(pk=run_id)
    failed = run.failed_count and not run.sent_count
    status = MailingRun.Status.FAILED if failed else MailingRun.Status.FINISHED
    # Not while its outbox is still being written: the rest is still to come.
    closed = MailingRun.objects.filter(
        pk=run_id, status__in=OPEN_RUN, outbox_through__isnull=True
    ).update(status=status, finished_at=now, started_at=run.started_at or now)
    if closed:
        # No slot left (the last one, or a `once` sent now): the mailing is done.
        finish_schedule(run.mailing_id)
    if closed:
        logger.info(
            "run %s %s: %s sent, %s failed, %s skipped",
            run_id,
            status,
            run.sent_count,
            run.failed_count,
            run.skipped_count,
        )
    return bool(closed)


# --- Recovering from dead consumers -----------------------------------------------


def sweep_stalled_runs(now: datetime) -> dict[str, int]:
    """Finish what dead consumers left: the guarantee that every run ends.

    Lapsed leases are reaped (mailing.leases): their claimed rows go back to
    pending, their rows on the wire are flagged `unknown`, never sent again. Rows
    `sending` without a lease (claimed before leases) get the old timeout. Runs
    that got rows back, or went quiet with rows claimable, are re-enqueued; runs
    with nothing left are closed.
    """
    reaped = leases.reap_lapsed(now)
    unknown = reaped["unknown"] + _flag_unleased(now)
    quiet_before = now - timedelta(seconds=settings.SENDING_STALLED_AFTER)
    requeued = finished = 0
    for run in MailingRun.objects.filter(status__in=OPEN_RUN).order_by("pk"):
        last_seen = run.heartbeat_at or run.started_at or run.created_at
        if outbox_writing.is_writing(run):
            if last_seen < quiet_before:  # its writer died: write the rest
                resume_writing(run.pk, now)
                requeued += 1
            continue
        if finish_run(run.pk, now):
            finished += 1
            continue
        quiet = last_seen < quiet_before or run.pk in reaped["runs"]
        # Rows waiting for a later retry already have a task scheduled; once their
        # time has passed, a lost task shows up here as claimable rows.
        if quiet and claimable(run.pk, now).exists():
            MailingRun.objects.filter(pk=run.pk).update(heartbeat_at=now)
            enqueue_run(run.pk)
            requeued += 1
    returned = reaped["returned"]
    if unknown or returned or requeued or finished:
        logger.warning(
            "sweeper: %s unknown, %s returned, %s runs re-enqueued, %s finished",
            unknown,
            returned,
            requeued,
            finished,
        )
    return {
        "unknown": unknown,
        "returned": returned,
        "requeued": requeued,
        "finished": finished,
    }


def resume_writing(run_id: int, now: datetime) -> None:
    """A task writes the rest of an outbox whose writer died; its chunks are
    fenced by the run's row, so a writer still alive after all does no harm."""
    from .tasks import write_outbox as write_outbox_task

    MailingRun.objects.filter(pk=run_id).update(heartbeat_at=now)
    logger.warning("run %s: outbox left half written, resumed", run_id)
    write_outbox_task(run_id)


def _flag_unleased(now: datetime) -> int:
    """Rows `sending` without a lease past SENDING_UNKNOWN_AFTER: unknown."""
    stuck_before = now - timedelta(seconds=settings.SENDING_UNKNOWN_AFTER)
    stuck = Attempt.objects.filter(
        status=Attempt.Status.SENDING, lease__isnull=True, claimed_at__lt=stuck_before
    )
    with transaction.atomic():
        runs = MailingRun.objects.filter(pk__in=stuck.values("run_id"))
        list(runs.select_for_update().order_by("pk"))  # lock order: runs first
        return leases.flag_unknown(stuck)


# --- Test sends and progress ------------------------------------------------------


def send_test(mailing: Mailing, to_user) -> None:
    """One rendered email of the mailing to `to_user`; no Attempt is written."""
    send_test_message(mailing.message, to_user)


def send_test_message(message: Message, to_user) -> None:
    """One rendered email of the message to `to_user` (the editor's test send)."""
    prepared = prepare_message(message)
    name = to_user.get_full_name() or to_user.email
    rendered = prepared.render(name, to_user.email, unsubscribe_url("test"))
    to = formataddr((to_user.get_full_name(), to_user.email))
    message = build_message(rendered, prepared.from_email, to, prepared.reply_to)
    message.tags = ["vestnik-test"]
    backend = get_connection(fail_silently=False)
    outcome = send_one(backend, Outbound(0, 1, to_user.email, message, ""))
    try:
        backend.close()
    except OSError:
        pass
    if not outcome.ok:
        raise SendError(
            _("The mail server did not accept the test email: %(response)s")
            % {"response": outcome.response}
        )


def run_done(run: MailingRun) -> int:
    """Rows of the run that are settled: sent, failed, cancelled or unknown (left
    by a dead consumer, never sent again), of run.total."""
    return run.sent_count + run.failed_count + run.cancelled_count + run.unknown_count


def run_percent(run: MailingRun) -> int:
    return round(run_done(run) * 100 / run.total) if run.total else 100


def run_progress(mailing: Mailing) -> dict | None:
    """Sent / total of the mailing's latest run, for the admin's mailing page."""
    run = mailing.runs.order_by("-created_at", "-pk").first()
    if run is None:
        return None
    now, is_open = timezone.now(), run.status in OPEN_RUN
    waiting = waiting_for_window(run, now) if is_open else {}
    held = leases.waiting_for_lapse(run.pk, now) if is_open else {}
    return {
        "run": run,
        "waiting": waiting.get("count", 0),
        "window_opens_at": waiting.get("opens_at"),
        "sent": run.sent_count,
        "failed": run.failed_count,
        "skipped": run.skipped_count,
        "cancelled": run.cancelled_count,
        "unknown": run.unknown_count,
        "held": held.get("count", 0),
        "held_until": held.get("until"),
        "total": run.total,
        "done": run_done(run),
        "percent": run_percent(run),
        "is_running": run.status in OPEN_RUN,
    }
