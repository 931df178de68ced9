"""Sending mailings: the one path every sender goes through.

The scheduler, "send now", `manage.py send_mailing` and the sweeper all open runs
and send them here. Correctness rests on the database, not on Huey: a run is unique
per mailing and slot, each recipient is an Attempt row claimed before the mail
server is called, and state is committed before and after every send.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from . import audiences
from .control import OPEN_RUN
from .digest import digest_message, new_posts
from .issues import snapshot
from .models import Attempt, Mailing, MailingRun, Message
from .previews import sample_message
from .rendering import prepare_message
from .scheduling import (
    claim_slot,
    due_mailings,
    finish_schedule,
    mark_sent_now,
    next_slot,
)
from .sending import leases, outbox_writing
from .sending.delivery import Outbound, send_one
from .sending.outbox import claimable
from .windows import hold_for_windows, waiting_for_window

logger = logging.getLogger(__name__)

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
    (mailing.sending.outbox_writing), here unless `write` is False: then the caller
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

    Lapsed leases are reaped (mailing.sending.leases): their claimed rows go back to
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
    send_test_message(mailing.message, to_user, mailing.pk)


def send_test_message(message: Message, to_user, mailing_id=None) -> None:
    """One rendered email of the message to `to_user` (the editor's test send),
    with the List-Id and List-Unsubscribe headers every mailing email carries."""
    prepared = prepare_message(message)
    message = sample_message(
        prepared, to_user.get_full_name(), to_user.email, "test", mailing_id
    )
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
