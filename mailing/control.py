"""What people do to a mailing while it sends: pause, resume, cancel (issue 10).

Owners act on their mailing or on one run of it; moderation (mailing.moderation)
cancels through the same functions. Each action writes the run's row first, then
its rows: the lock order of the claim (mailing.sending.outbox), so neither waits for the
other in a cycle. The claim re-checks every state written here in its own
statement, so an action takes effect within the groups already claimed.
"""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Attempt, Mailing, MailingRun

Status = MailingRun.Status
# Runs a consumer may claim rows of.
OPEN_RUN = (Status.PENDING, Status.RUNNING)
# Runs not yet over: open, or paused and waiting for resume.
LIVE_RUN = (*OPEN_RUN, Status.PAUSED)


class ControlError(Exception):
    """An action that does not apply, with a message fit to show the user."""


def _locked_runs(runs) -> list[MailingRun]:
    # Ordered by id: two actions over several runs take their locks in one order.
    return list(runs.select_for_update().order_by("pk"))


@transaction.atomic
def pause_mailing(mailing: Mailing) -> int:
    """Hold the mailing: no new run opens, open runs stop; returns runs paused."""
    paused = _pause(_locked_runs(mailing.runs.filter(status__in=OPEN_RUN)))
    Mailing.objects.filter(pk=mailing.pk).update(is_paused=True)
    mailing.is_paused = True
    return paused


@transaction.atomic
def resume_mailing(mailing: Mailing) -> int:
    """Send again: paused runs carry on from their pending rows; returns runs."""
    Mailing.objects.filter(pk=mailing.pk).update(is_paused=False)
    mailing.is_paused = False
    return _resume(_locked_runs(mailing.runs.filter(status=Status.PAUSED)))


@transaction.atomic
def cancel_mailing(mailing: Mailing) -> int:
    """Stop every live run of the mailing; its later slots still come."""
    return cancel_runs(mailing.runs.filter(status__in=LIVE_RUN))


@transaction.atomic
def pause_run(run: MailingRun) -> None:
    runs = _locked_runs(MailingRun.objects.filter(pk=run.pk))
    if not runs or runs[0].status not in OPEN_RUN:
        raise ControlError(_("This run is not sending: there is nothing to pause."))
    _pause(runs)
    run.status = Status.PAUSED


@transaction.atomic
def resume_run(run: MailingRun) -> None:
    runs = _locked_runs(MailingRun.objects.filter(pk=run.pk))
    if not runs or runs[0].status != Status.PAUSED:
        raise ControlError(_("This run is not paused."))
    if Mailing.objects.filter(pk=run.mailing_id, is_paused=True).exists():
        raise ControlError(_("The mailing is paused: resume the mailing instead."))
    _resume(runs)
    run.status = Status.PENDING


@transaction.atomic
def cancel_run(run: MailingRun) -> None:
    if not cancel_runs(MailingRun.objects.filter(pk=run.pk, status__in=LIVE_RUN)):
        raise ControlError(_("This run is already over."))
    run.status = Status.CANCELLED


def _pause(runs: list[MailingRun]) -> int:
    ids = [run.pk for run in runs]
    return MailingRun.objects.filter(pk__in=ids, status__in=OPEN_RUN).update(
        status=Status.PAUSED
    )


def _resume(runs: list[MailingRun]) -> int:
    from .services import enqueue_run

    ids = [run.pk for run in runs]
    MailingRun.objects.filter(pk__in=ids).update(status=Status.PENDING)
    for pk in ids:
        transaction.on_commit(lambda pk=pk: enqueue_run(pk))
    return len(ids)


def cancel_runs(runs) -> int:
    """Cancel these runs (a queryset) and their rows not yet on the wire (pending,
    or claimed by a consumer: its hand-over finds them gone); rows being sent
    settle as usual. Call inside a transaction. Returns the runs cancelled."""
    from .scheduling import finish_schedule

    locked = _locked_runs(runs.filter(status__in=LIVE_RUN))
    now = timezone.now()
    for run in locked:
        dropped = Attempt.objects.filter(
            run_id=run.pk,
            status__in=[Attempt.Status.PENDING, Attempt.Status.CLAIMED],
        ).update(status=Attempt.Status.CANCELLED)
        MailingRun.objects.filter(pk=run.pk).update(
            status=Status.CANCELLED,
            cancelled_count=F("cancelled_count") + dropped,
            finished_at=now,
            started_at=run.started_at or now,
        )
    # A `once` mailing whose run is over has nothing left to send.
    for mailing_id in {run.mailing_id for run in locked}:
        transaction.on_commit(lambda pk=mailing_id: finish_schedule(pk))
    return len(locked)


def cancel_live_runs_of(mailing_filter: Q) -> int:
    """Moderation: stop the live runs of the mailings matching the filter."""
    mailings = Mailing.objects.filter(mailing_filter).values("pk")
    return cancel_runs(MailingRun.objects.filter(mailing__in=mailings))


def is_still_sending(run_id: int) -> bool:
    """Whether a consumer should keep claiming: the run open, its mailing not paused."""
    return MailingRun.objects.filter(
        pk=run_id, status__in=OPEN_RUN, mailing__is_paused=False
    ).exists()


# --- Deleting while sending ------------------------------------------------------


def lock_runs_of_mailing(sender, instance: Mailing, **kwargs) -> None:
    """pre_delete: take the mailing's runs before its rows go (the claim's order).

    Without it the delete locks Attempt rows, then waits for a run's row that a
    claim holds while that claim waits for those Attempt rows: a deadlock.
    """
    _locked_runs(MailingRun.objects.filter(mailing_id=instance.pk))


def lock_runs_of_client(sender, instance, **kwargs) -> None:
    """pre_delete of a Client: the runs it has rows in, before the rows."""
    unsettled = (Attempt.Status.PENDING, Attempt.Status.CLAIMED, Attempt.Status.SENDING)
    runs = Attempt.objects.filter(client_id=instance.pk, status__in=unsettled)
    _locked_runs(MailingRun.objects.filter(pk__in=runs.values("run_id")))
