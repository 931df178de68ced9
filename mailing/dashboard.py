"""The admin home's panels, by role (Wagtail's construct_homepage_panels hook).

An owner sees their own work: the next sends, the runs going now with their
progress, and how the last 30 days went. A manager sees the whole service: the
same 30 days across every owner, the users blocked lately, the mailings disabled.
Each panel is a Wagtail dashboard component, reading through `for_user`.
"""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.components import Component
from wagtail.models import ModelLogEntry

from accounts.models import User

from .admin_reports import FiguresPanel, may_view_mailings, outcomes
from .control import OPEN_RUN
from .models import Mailing, MailingRun, sees_every_owner, sees_whole_tables
from .moderation import BLOCK_ACTION
from .rollups import DAY_FIGURES, figures_by_day, recent_figures
from .services import run_percent
from .timeline import bar_chart

DAYS = 30
LISTED = 5
TICK_EVERY = 10  # days between the dates under the chart
DAY_SERIES = [
    ("sent", _("Sent"), "#5c6bc0"),
    ("failed", _("Failed to send"), "#b3261e"),
    ("human_opens", _("Opens by people"), "#1f7e3a"),
    ("human_clicks", _("Clicks by people"), "#c26a00"),
]


class DashboardPanel(Component):
    """A titled panel; subclasses give `title`, `template_name` and `rows()`."""

    title = ""

    def __init__(self, user):
        self.user = user

    def rows(self):
        return []

    def get_context_data(self, parent_context=None):
        return {"title": self.title, "rows": self.rows(), "panel": self.name}


class NextSendsPanel(DashboardPanel):
    name = "mailing_next_sends"
    order = 60
    title = _("Next sends")
    template_name = "mailing/admin/dashboard/next_sends.html"

    def rows(self):
        return list(
            Mailing.objects.for_user(self.user)
            .filter(is_enabled=True, next_send_at__gte=timezone.now())
            .exclude(status=Mailing.Status.FINISHED)
            .order_by("next_send_at")[:LISTED]
        )


class RunningRunsPanel(DashboardPanel):
    name = "mailing_running_runs"
    order = 70
    title = _("Sending now")
    template_name = "mailing/admin/dashboard/running_runs.html"

    def rows(self):
        runs = (
            MailingRun.objects.filter(
                mailing__in=Mailing.objects.for_user(self.user),
                status__in=OPEN_RUN,
            )
            .select_related("mailing")
            .order_by("created_at")[:LISTED]
        )
        return [(run, run_percent(run)) for run in runs]


def last_days_figures(user, days: int = DAYS) -> dict:
    """Sent, failed, bounced, unsubscribed and the success rate of the last days,
    from the runs' counters and the event rollups of the mailings `user` sees."""
    since = timezone.localdate() - timedelta(days=days - 1)
    whole = sees_whole_tables(user)
    figures = recent_figures(None if whole else Mailing.objects.for_user(user), since)
    return {
        **outcomes(figures),
        "bounced": figures["bounces"],
        "unsubscribed": figures["unsubscribes"],
        "human_opens": figures["human_opens"],
        "human_clicks": figures["human_clicks"],
        "complaints": figures["complaints"],
    }


def last_days_chart(user, days: int = DAYS) -> dict:
    """The same last days, day by day, as rows of bars (mailing.timeline)."""
    since = timezone.localdate() - timedelta(days=days - 1)
    found = figures_by_day(Mailing.objects.for_user(user), since)
    points = []
    for offset in range(days):
        day = since + timedelta(days=offset)
        empty = dict.fromkeys(DAY_FIGURES, 0)
        points.append({**found.get(day, empty), "at": day, "offset": offset})
    ticks = [
        (n, date_format(since + timedelta(days=n), "SHORT_DATE_FORMAT"))
        for n in range(0, days, TICK_EVERY)
    ]
    return {"days": points, "chart": bar_chart(points, DAY_SERIES, ticks)}


class LastDaysPanel(DashboardPanel):
    name = "mailing_last_days"
    order = 80
    template_name = "mailing/admin/dashboard/last_days.html"

    @property
    def title(self):
        if sees_every_owner(self.user):
            return _("The whole service: last 30 days")
        return _("Last 30 days")

    def get_context_data(self, parent_context=None):
        return {
            **super().get_context_data(),
            "figures": last_days_figures(self.user),
            "by_day": last_days_chart(self.user),
        }


class BlockedUsersPanel(DashboardPanel):
    name = "mailing_blocked_users"
    order = 90
    title = _("Users blocked lately")
    template_name = "mailing/admin/dashboard/blocked_users.html"

    def rows(self):
        entries = (
            ModelLogEntry.objects.filter(
                action=BLOCK_ACTION,
                content_type=ContentType.objects.get_for_model(User),
                timestamp__gte=timezone.now() - timedelta(days=DAYS),
            )
            .select_related("user")
            .order_by("-timestamp")[: LISTED * 4]
        )
        # Only the users of these entries, by primary key: no scan of every user.
        ids = {int(entry.object_id) for entry in entries}
        still_blocked = set(
            User.objects.filter(pk__in=ids, is_blocked=True).values_list(
                "pk", flat=True
            )
        )
        rows, seen = [], set()
        for entry in entries:
            if int(entry.object_id) in still_blocked and entry.object_id not in seen:
                seen.add(entry.object_id)
                rows.append(entry)
        return rows[:LISTED]


class DisabledMailingsPanel(DashboardPanel):
    name = "mailing_disabled"
    order = 100
    title = _("Mailings disabled")
    template_name = "mailing/admin/dashboard/disabled_mailings.html"

    def rows(self):
        return list(
            Mailing.objects.filter(is_enabled=False)
            .select_related("owner")
            .order_by("-updated_at")[:LISTED]
        )


def panels_for(user) -> list[Component]:
    """The panels of `user`'s admin home, by role; none for who sees no mailing."""
    if not may_view_mailings(user):
        return []
    if sees_every_owner(user):
        return [
            FiguresPanel(user),
            LastDaysPanel(user),
            BlockedUsersPanel(user),
            DisabledMailingsPanel(user),
        ]
    return [
        FiguresPanel(user),
        NextSendsPanel(user),
        RunningRunsPanel(user),
        LastDaysPanel(user),
    ]
