"""A run's first 48 hours, hour by hour: sends, opens and clicks (people's and
all), read from RunHourCounts (a few dozen rows whatever the run's size) and laid
out as an SVG made here, with the same figures as a table for those who do not
see the chart."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import MailingRun, RunHourCounts

HOURS = 48
BAR, GAP, ROW_HEIGHT = 10, 2, 48
TICK_EVERY = 6  # hours between the labels under the chart
SERIES = [
    ("sends", _("Sent"), "#5c6bc0"),
    ("opens", _("Opens"), "#1f7e3a"),
    ("clicks", _("Clicks"), "#c26a00"),
]
FIGURES = ["sends", "opens", "human_opens", "clicks", "human_clicks"]


def timeline_run(mailing) -> MailingRun | None:
    """The latest run that started sending."""
    runs = MailingRun.objects.filter(mailing=mailing, started_at__isnull=False)
    return runs.order_by("-started_at", "-pk").first()


def run_hours(run: MailingRun) -> list[dict]:
    """One row per hour of the first 48 from the hour the run started (UTC)."""
    start = run.started_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    found = {
        row["hour"]: row
        for row in RunHourCounts.objects.filter(
            run=run, hour__gte=start, hour__lt=start + timedelta(hours=HOURS)
        ).values("hour", *FIGURES)
    }
    empty = dict.fromkeys(FIGURES, 0)
    return [
        {**empty, **found.get(start + timedelta(hours=n), {}),
         "hour": start + timedelta(hours=n), "offset": n}
        for n in range(HOURS)
    ]  # fmt: skip


def bar_chart(points: list[dict], series: list, ticks: list[tuple[int, str]]) -> dict:
    """Rows of bars, one row per series, each scaled to its own busiest point (sends
    outnumber clicks a hundredfold: one scale would flatten the clicks). A point has
    its `offset` (the bar's place), `at` (its hour or day) and a figure per series."""
    rows = []
    for index, (name, label, colour) in enumerate(series):
        peak = max([point[name] for point in points] + [1])
        top = index * (ROW_HEIGHT + 20) + 16
        bars = []
        for point in points:
            height = (ROW_HEIGHT * point[name]) // peak
            if height == 0 and point[name]:
                height = 1
            bars.append(
                {"x": point["offset"] * (BAR + GAP), "y": top + ROW_HEIGHT - height,
                 "height": height, "value": point[name], "at": point["at"]}
            )  # fmt: skip
        rows.append(
            {"name": name, "label": label, "colour": colour, "peak": peak,
             "top": top, "label_y": top - 4, "bars": bars}
        )  # fmt: skip
    height = len(series) * (ROW_HEIGHT + 20)
    return {
        "rows": rows,
        "width": len(points) * (BAR + GAP),
        "height": height + 14,
        "tick_y": height + 10,
        "ticks": [{"x": n * (BAR + GAP), "label": label} for n, label in ticks],
        "bar": BAR,
    }


def chart(hours: list[dict]) -> dict:
    ticks = [
        (n, gettext("+%(hours)d h") % {"hours": n}) for n in range(0, HOURS, TICK_EVERY)
    ]
    return bar_chart([{**hour, "at": hour["hour"]} for hour in hours], SERIES, ticks)


def mailing_timeline(mailing) -> dict | None:
    run = timeline_run(mailing)
    if run is None:
        return None
    hours = run_hours(run)
    return {"run": run, "hours": hours, "chart": chart(hours)}
