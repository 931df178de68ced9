"""When a mailing goes out next.

Slots are computed on the wall clock of the mailing owner's time zone (Wagtail's
account preference, `UserProfile.current_time_zone`, else settings.TIME_ZONE): a
mailing sent at 09:00 goes at 09:00 local time on both sides of a DST change. A
monthly mailing keeps the day of month it was first sent on, clamped to the length
of shorter months (31st -> 30th, 28th or 29th, then back to the 31st).

`next_send_at` is the next slot the scheduler opens, or None when nothing more
will be sent. Every path that saves a mailing keeps it (Mailing.save calls
`keep_schedule`): a new mailing waits for its first slot; an edited schedule takes
effect from its next slot; "send now" on a `once` mailing is its one send. A row
written around save() (bulk_create, a data migration's historical model) is still
found by `Mailing.objects.due`, which falls back to `first_send_at`.
"""

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Mailing
from .zones import owner_zone, site_zone

Periodicity = Mailing.Periodicity
Status = Mailing.Status
# What decides the slots; next_send_at and status are moved by the scheduler.
SCHEDULE_FIELDS = ("first_send_at", "periodicity", "end_at")
SCHEDULER_FIELDS = ("next_send_at", "status")


# The dates a schedule can hold. Year 1 in the owner's zone is before year 1 in UTC:
# PostgreSQL stored it as a BC timestamp that psycopg cannot read back, so the
# mailing's pages and the every-minute scheduler query (for every owner) failed.
SCHEDULE_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
SCHEDULE_LATEST = datetime(3000, 1, 1, tzinfo=UTC)

# The fields schedule_problems reads, by their names on Mailing.
SCHEDULE_RULE_FIELDS = ("first_send_at", "end_at", "window_start", "window_end")


def schedule_problems(
    first_send_at, end_at, window_start, window_end
) -> dict[str, str]:
    """What is wrong with a mailing's dates and delivery window, by field: the one
    rule the admin form and the API both ask, so they refuse the same input."""
    problems = {}
    for name, value in (("first_send_at", first_send_at), ("end_at", end_at)):
        if value and not SCHEDULE_EARLIEST <= value < SCHEDULE_LATEST:
            problems[name] = _("Give a date in the years 2000 to 2999.")
    if problems:
        return problems
    if first_send_at and end_at and end_at <= first_send_at:
        problems["end_at"] = _("The end must come after the first sending.")
    if (window_start is None) != (window_end is None):
        missing = "window_end" if window_end is None else "window_start"
        problems[missing] = _("Give both times of the delivery window, or neither.")
    elif window_start is not None and window_start == window_end:
        problems["window_end"] = _("The delivery window must end at another time.")
    return problems


def mailing_zone(mailing: Mailing) -> ZoneInfo:
    return owner_zone(mailing.owner) if mailing.owner_id else site_zone()


# --- Slots ------------------------------------------------------------------------


def due_mailings(now: datetime) -> QuerySet:
    return (
        Mailing.objects.due(now)
        .select_related("owner__wagtail_userprofile")
        .order_by("next_send_at", "first_send_at", "pk")
    )


def _add_months(day: date, months: int, day_of_month: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day_of_month, last))


def occurrence(first: datetime, periodicity: str, n: int, zone: ZoneInfo) -> datetime:
    """The n-th slot (0 = the first) of a periodic mailing, as an aware datetime."""
    local = first.astimezone(zone)
    if periodicity == Periodicity.DAILY:
        day = local.date() + timedelta(days=n)
    elif periodicity == Periodicity.WEEKLY:
        day = local.date() + timedelta(weeks=n)
    elif periodicity == Periodicity.MONTHLY:
        day = _add_months(local.date(), n, local.day)
    else:
        raise ValueError(f"{periodicity!r} has no repeating slots")
    # Wall-clock time kept; a time that does not exist (spring forward) resolves
    # by PEP 495 to the same instant shifted by the DST offset.
    wall = datetime.combine(day, local.timetz().replace(tzinfo=None))
    return wall.replace(tzinfo=zone)


def _estimate_index(
    first: datetime, periodicity: str, after: datetime, zone: ZoneInfo
) -> int:
    """A lower bound for the index of the first slot after `after` (no long loops)."""
    start, end = first.astimezone(zone), after.astimezone(zone)
    if periodicity == Periodicity.DAILY:
        steps = (end.date() - start.date()).days
    elif periodicity == Periodicity.WEEKLY:
        steps = (end.date() - start.date()).days // 7
    else:
        steps = (end.year - start.year) * 12 + end.month - start.month
    return max(0, steps - 1)


def next_slot(mailing: Mailing, after: datetime) -> datetime | None:
    """The first slot strictly after `after`, or None when the mailing is done.

    Slots missed while no consumer ran are not sent one by one: the schedule
    resumes at the first slot in the future.
    """
    if mailing.periodicity == Periodicity.ONCE:
        return None
    zone, first = mailing_zone(mailing), mailing.first_send_at
    n = _estimate_index(first, mailing.periodicity, after, zone)
    slot = occurrence(first, mailing.periodicity, n, zone)
    while slot <= after:
        n += 1
        slot = occurrence(first, mailing.periodicity, n, zone)
    if mailing.end_at and slot > mailing.end_at:
        return None
    return slot


# --- The invariant: next_send_at whoever saves ------------------------------------


def schedule_snapshot(mailing: Mailing) -> dict | None:
    """What save() compares against: the schedule as it was loaded (None when part
    of it was not loaded)."""
    names = SCHEDULE_FIELDS + SCHEDULER_FIELDS
    if mailing.get_deferred_fields() & set(names):
        return None
    return {name: getattr(mailing, name) for name in names}


def keep_schedule(mailing: Mailing, update_fields, now: datetime):
    """Set next_send_at (and status) before `mailing` is saved; the fields to write.

    A new mailing waits for its first slot. A changed schedule takes effect from
    its next slot. Otherwise the scheduler's fields are left out of the write when
    the caller did not change them: a copy loaded before the scheduler moved them
    must not put an old slot back.
    """
    loaded = getattr(mailing, "_loaded_schedule", None)
    if mailing._state.adding:
        if mailing.next_send_at is None and mailing.status == Status.CREATED:
            mailing.next_send_at = mailing.first_send_at
        return update_fields
    if loaded is None:
        # Loaded without its schedule (only(), defer()): none of it is written.
        return update_fields
    if update_fields is not None and not set(update_fields) & set(SCHEDULE_FIELDS):
        return update_fields
    if any(getattr(mailing, name) != loaded[name] for name in SCHEDULE_FIELDS):
        # From the row as it is now: the scheduler may have moved it since this
        # copy was loaded.
        current = Mailing.objects.filter(pk=mailing.pk).values(*SCHEDULER_FIELDS)
        for name, value in (current.first() or {}).items():
            setattr(mailing, name, value)
        _reschedule(mailing, mailing.next_send_at, now)
        return _with_fields(update_fields, SCHEDULER_FIELDS)
    if update_fields is None:
        unchanged = {n for n in SCHEDULER_FIELDS if getattr(mailing, n) == loaded[n]}
        return [
            field.name
            for field in mailing._meta.concrete_fields
            if not field.primary_key and field.name not in unchanged
        ]
    return update_fields


def _with_fields(update_fields, names) -> list | None:
    return None if update_fields is None else list({*update_fields, *names})


def _reschedule(mailing: Mailing, due: datetime | None, now: datetime) -> None:
    if mailing.status == Status.CREATED:
        # Never sent on schedule yet: its first slot is the one the owner chose.
        mailing.next_send_at = mailing.first_send_at
        return
    following = next_slot(mailing, now)
    if due is not None and due <= now and _is_slot(mailing, due):
        # Due but not opened yet (the scheduler passes every minute), and still a
        # slot of the edited schedule: an edit does not make it skip this one.
        following = due
    mailing.next_send_at = following
    if following is not None and mailing.status == Status.FINISHED:
        mailing.status = Status.RUNNING
    elif following is None and not _has_open_run(mailing):
        mailing.status = Status.FINISHED


def _is_slot(mailing: Mailing, moment: datetime) -> bool:
    if mailing.periodicity == Periodicity.ONCE:
        return False
    return next_slot(mailing, moment - timedelta(microseconds=1)) == moment


def _has_open_run(mailing: Mailing) -> bool:
    from .models import MailingRun

    open_statuses = (MailingRun.Status.PENDING, MailingRun.Status.RUNNING)
    return mailing.runs.filter(status__in=open_statuses).exists()


def claim_slot(
    mailing: Mailing,
    slot: datetime,
    following: datetime | None,
    status: str = Status.RUNNING,
) -> bool:
    """Move next_send_at from the slot that was read to the next one; True if this
    call moved it (a second scheduler, or a retried task, finds nothing to move)."""
    if mailing.next_send_at is None:
        # Saved around save() (see Mailing.objects.due): read from first_send_at.
        read = Q(next_send_at__isnull=True, status=Status.CREATED)
    else:
        read = Q(next_send_at=slot)
    moved = Mailing.objects.filter(read, pk=mailing.pk).update(
        next_send_at=following, status=status
    )
    return bool(moved)


def mark_sent_now(mailing: Mailing) -> None:
    """Send now on a `once` mailing is its one send: the scheduler leaves it alone
    from here, and the run's end finishes it (finish_schedule)."""
    if mailing.periodicity != Periodicity.ONCE:
        return
    Mailing.objects.filter(pk=mailing.pk).exclude(status=Status.FINISHED).update(
        next_send_at=None, status=Status.RUNNING
    )


def finish_schedule(mailing_id: int) -> None:
    """After a run closes: a running mailing with no slot left is finished."""
    Mailing.objects.filter(
        pk=mailing_id, next_send_at__isnull=True, status=Status.RUNNING
    ).update(status=Status.FINISHED)


def follow_owner_zone(owner, now: datetime) -> int:
    """The owner picked another time zone: their upcoming slots follow it."""
    moved = 0
    mailings = Mailing.objects.filter(
        owner=owner, status=Status.RUNNING, next_send_at__gt=now
    ).select_related("owner__wagtail_userprofile")
    for mailing in mailings:
        following = next_slot(mailing, now)
        if following == mailing.next_send_at:
            continue
        status = Status.RUNNING
        if following is None and not _has_open_run(mailing):
            status = Status.FINISHED
        moved += Mailing.objects.filter(
            pk=mailing.pk, next_send_at=mailing.next_send_at
        ).update(next_send_at=following, status=status)
    return moved


def on_profile_saved(sender, instance, **kwargs) -> None:
    """Wagtail's account page saved a profile: the time zone may have changed."""
    follow_owner_zone(instance.user, timezone.now())
