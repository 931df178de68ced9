"""Delivery windows: each recipient gets a mailing in their own day's window.

A mailing may say "09:00-11:00 local". When a run opens, each row whose recipient's
window has not opened yet gets `retry_at` = the moment it opens in their zone (the
client's time zone, else the owner's). The claim already holds back rows whose
`retry_at` lies ahead, and the sender sleeps or schedules itself until the
earliest one, so the claim is unchanged; a row waiting for its window is told
from one waiting for a retry by `tries = 0`. The run stays open, and finishes,
once the last window has opened and its rows are sent.

Zones are resolved in Python (zoneinfo, the same on SQLite and PostgreSQL) once
per distinct zone among the recipients, which are few even for a large run; the
rows are then held by one UPDATE. It is a second write of the held rows (about
twice a plain UPDATE of them), paid only by mailings that have a window.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Min,
    OuterRef,
    Subquery,
    Value,
    When,
)

from .models import Attempt, Client, Mailing, MailingRun
from .zones import client_zone, owner_zone


def is_open(local: time, start: time, end: time) -> bool:
    """Whether a local time of day lies in [start, end); end < start wraps midnight."""
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_opening(now: datetime, zone: ZoneInfo, start: time, end: time):
    """None while the window is open at `now` in `zone`; else when it next opens."""
    local = now.astimezone(zone)
    if is_open(local.time(), start, end):
        return None
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    # A start inside a spring-forward gap resolves (PEP 495) to just after it.
    return datetime.combine(day, start).replace(tzinfo=zone)


def hold_for_windows(run: MailingRun, now: datetime, ids=None) -> int:
    """Hold back the run's rows whose recipients' window has not opened; how many.
    Only the rows of client ids in (ids[0], ids[1]] when given (one outbox chunk)."""
    mailing = run.mailing
    if not mailing.has_window:
        return 0
    rows = Attempt.objects.filter(run=run, status=Attempt.Status.PENDING)
    if ids is not None:
        rows = rows.filter(client_id__gt=ids[0], client_id__lte=ids[1])
    openings = _openings_by_zone_name(rows, mailing, now)
    if not openings:
        return 0
    if connection.vendor == "postgresql":
        return _hold_joined(run.pk, openings, ids)
    opening = Case(
        *[When(time_zone=name, then=Value(at)) for name, at in openings.items()],
        output_field=DateTimeField(),
    )
    client_opening = (
        Client.objects.filter(pk=OuterRef("client_id"))
        .annotate(opening=opening)
        .values("opening")
    )
    return rows.filter(client__time_zone__in=list(openings)).update(
        retry_at=Subquery(client_opening[:1])
    )


def _hold_joined(run_id: int, openings: dict, ids=None) -> int:
    """PostgreSQL: one UPDATE joined to the zones' openings as arrays, half the time
    of the ORM's correlated subquery (20,000 rows: 1.0 s against 1.8 s)."""
    table, client_table = Attempt._meta.db_table, Client._meta.db_table
    sql = f"""
        UPDATE {table} AS a SET retry_at = v.opens
        FROM {client_table} AS c,
            unnest(%s::text[], %s::timestamptz[]) AS v(zone, opens)
        WHERE a.run_id = %s AND a.status = %s
            AND c.id = a.client_id AND c.time_zone = v.zone
            AND a.client_id > %s AND a.client_id <= %s
    """  # nosec B608 - table names from the models, values are parameters
    after, through = ids if ids is not None else (0, 2**63 - 1)
    params = [list(openings), list(openings.values()), run_id, Attempt.Status.PENDING]
    params += [after, through]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _openings_by_zone_name(rows, mailing: Mailing, now: datetime) -> dict:
    """Stored zone name -> when that zone's window opens, for closed windows only,
    among the recipients of `rows`."""
    default = owner_zone(mailing.owner)
    names = (
        Client.objects.filter(pk__in=rows.values("client_id"))
        .values_list("time_zone", flat=True)
        .distinct()
    )
    openings = {}
    for name in names:
        zone = client_zone(name, default)
        at = next_opening(now, zone, mailing.window_start, mailing.window_end)
        if at is not None:
            openings[name] = at
    return openings


def waiting_for_window(run: MailingRun, now: datetime) -> dict:
    """Rows of the run not sent yet because their window has not opened."""
    return Attempt.objects.filter(
        run=run, status=Attempt.Status.PENDING, tries=0, retry_at__gt=now
    ).aggregate(count=Count("id"), opens_at=Min("retry_at"))
