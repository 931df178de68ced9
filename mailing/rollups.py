"""The figures reports show, read from stored counts and never by counting attempts.

Sends come from each run's own counters (sent, failed, cancelled: bumped as the
outbox settles rows), what happened after from the per run and day event counts
(mailing.counters). Both are a few rows per run, so a report costs the same at ten
thousand attempts as at ten million.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from .counters import COLUMNS
from .models import MailingRun, RunDayCounts

SEND_COLUMNS = {"sent": "sent_count", "failed": "failed_count",
                "cancelled": "cancelled_count"}  # fmt: skip
# Complaints over 0.3% of the mail delivered get a sender's mail refused by Gmail and
# Yahoo (their 2024 bulk sender rules); bounces over 2% mark a list gone stale.
COMPLAINT_LIMIT = 0.3
BOUNCE_LIMIT = 2.0


def _sums(queryset: QuerySet, columns: dict[str, str]) -> dict[str, int]:
    found = queryset.aggregate(
        **{name: Coalesce(Sum(column), 0) for name, column in columns.items()}
    )
    return {name: int(value) for name, value in found.items()}


def send_totals(runs: QuerySet) -> dict[str, int]:
    """Sent, failed and cancelled over these runs."""
    return _sums(runs, SEND_COLUMNS)


def event_totals(counts: QuerySet) -> dict[str, int]:
    """Every event counter (mailing.counters.COLUMNS) over these rollup rows."""
    return _sums(counts, {name: name for name in COLUMNS})


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def with_rates(figures: dict[str, int]) -> dict:
    """The figures plus success, bounce, complaint, open and click rates."""
    sent = figures["sent"]
    bounces = figures["hard_bounces"] + figures["soft_bounces"]
    # An SMTP refusal at send time (mailing.bounces) is a failed attempt and a
    # hard bounce: shown once, as a bounce of an email that was tried.
    refused = figures["send_bounces"]
    rates = {
        "bounces": bounces,
        "failed": figures["failed"] - refused,
        "rate": percent(sent, sent + figures["failed"]),
        "bounce_rate": percent(bounces, sent + refused),
        "hard_bounce_rate": percent(figures["hard_bounces"], sent),
        "complaint_rate": percent(figures["complaints"], sent),
        "machine_opens": figures["opens"] - figures["human_opens"],
        "machine_clicks": figures["clicks"] - figures["human_clicks"],
    }
    rates["complaints_too_high"] = (rates["complaint_rate"] or 0) > COMPLAINT_LIMIT
    rates["bounces_too_high"] = (rates["bounce_rate"] or 0) > BOUNCE_LIMIT
    return {**figures, **rates}


def mailing_figures(mailing) -> dict:
    """Everything one mailing's report counts, over all its runs."""
    return with_rates(
        {
            **send_totals(MailingRun.objects.filter(mailing=mailing)),
            **event_totals(RunDayCounts.objects.filter(run__mailing=mailing)),
        }
    )


def recent_figures(mailings: QuerySet | None, since: date) -> dict:
    """The runs made and the events counted since `since`, of these mailings, or
    of the whole service (None): no join then with each of its runs and mailings."""
    # From the day's first instant, not created_at cast to a date: an index on
    # created_at serves a range and no cast of it.
    start = timezone.make_aware(datetime.combine(since, time.min))
    runs = MailingRun.objects.filter(created_at__gte=start)
    counts = RunDayCounts.objects.filter(day__gte=since)
    if mailings is not None:
        runs = runs.filter(mailing__in=mailings)
        counts = counts.filter(run__mailing__in=mailings)
    return with_rates({**send_totals(runs), **event_totals(counts)})


def sends_by_mailing(mailings: QuerySet) -> QuerySet:
    """The mailings, each with `sent` and `failed` summed over its runs."""
    return mailings.annotate(
        sent=Coalesce(Sum("runs__sent_count"), 0),
        failed=Coalesce(Sum("runs__failed_count"), 0),
    )


def runs_compared(runs: QuerySet) -> QuerySet:
    """Runs with their event totals beside their send counters."""
    return runs.annotate(
        **{
            name: Coalesce(Sum(F(f"day_counts__{name}")), 0)
            for name in (
                "delivered",
                "opens",
                "human_opens",
                "clicks",
                "human_clicks",
                "hard_bounces",
                "soft_bounces",
                "complaints",
                "unsubscribes",
            )
        }  # fmt: skip
    )


def sends_by_day(mailing, today: date, days: int) -> dict[date, dict[str, int]]:
    """Sent and failed per day a run started on, of the last `days` days."""
    since = today - timedelta(days=days - 1)
    rows = (
        MailingRun.objects.filter(mailing=mailing)
        .filter(Q(started_at__date__gte=since) | Q(created_at__date__gte=since))
        .annotate(day=TruncDate(Coalesce("started_at", "created_at")))
        .values("day")
        .annotate(succeeded=Sum("sent_count"), failed=Sum("failed_count"))
        .order_by()
    )
    return {row["day"]: row for row in rows if row["day"] >= since}


DAY_FIGURES = ["sent", "failed", "human_opens", "human_clicks"]


def figures_by_day(mailings: QuerySet, since: date) -> dict[date, dict[str, int]]:
    """Sent and failed per day a run was made (as recent_figures counts them) and
    people's opens and clicks per day, of these mailings since `since`."""
    found: dict[date, dict[str, int]] = {}
    # From the day's first instant, not created_at::date: a range the planner can use.
    start = timezone.make_aware(datetime.combine(since, time.min))
    sends = (
        MailingRun.objects.filter(mailing__in=mailings, created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(sent=Sum("sent_count"), failed=Sum("failed_count"))
        .order_by()
    )
    events = (
        RunDayCounts.objects.filter(run__mailing__in=mailings, day__gte=since)
        .values("day")
        .annotate(human_opens=Sum("human_opens"), human_clicks=Sum("human_clicks"))
        .order_by()
    )
    for row in [*sends, *events]:
        day = found.setdefault(row.pop("day"), dict.fromkeys(DAY_FIGURES, 0))
        day.update(row)
    return found
