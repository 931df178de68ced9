"""When a mailing goes out next.

Slots are computed on the wall clock of the site's time zone (settings.TIME_ZONE):
a mailing sent at 09:00 goes at 09:00 local time on both sides of a DST change. A
monthly mailing keeps the day of month it was first sent on, clamped to the length
of shorter months (31st -> 30th, 28th or 29th, then back to the 31st).
"""

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from .models import Mailing

Periodicity = Mailing.Periodicity


def due_mailings(now: datetime) -> QuerySet:
    return Mailing.objects.due(now).order_by("next_send_at", "pk")


def site_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _add_months(day: date, months: int, day_of_month: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day_of_month, last))


def occurrence(first: datetime, periodicity: str, n: int) -> datetime:
    """The n-th slot (0 = the first) of a periodic mailing, as an aware datetime."""
    zone = site_zone()
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


def _estimate_index(first: datetime, periodicity: str, after: datetime) -> int:
    """A lower bound for the index of the first slot after `after` (no long loops)."""
    zone = site_zone()
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
    n = _estimate_index(mailing.first_send_at, mailing.periodicity, after)
    slot = occurrence(mailing.first_send_at, mailing.periodicity, n)
    while slot <= after:
        n += 1
        slot = occurrence(mailing.first_send_at, mailing.periodicity, n)
    if mailing.end_at and slot > mailing.end_at:
        return None
    return slot
