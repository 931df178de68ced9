"""Reports: the dashboard panel, the reports index and one mailing's report."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.ui.components import Component

from accounts.models import User

from .admin_pages import AdminPageMixin, mailing_crumbs
from .admin_views import RoleGatedMixin
from .control import LIVE_RUN, OPEN_RUN
from .models import Attempt, Mailing, MailingRun, sees_every_owner
from .permissions import policy_for
from .resend import unresolved_unknown
from .rollups import (
    BOUNCE_LIMIT,
    COMPLAINT_LIMIT,
    mailing_figures,
    runs_compared,
    sends_by_day,
    sends_by_mailing,
)
from .sending.leases import waiting_for_lapse
from .stats import service_figures
from .timeline import mailing_timeline

CHART_DAYS = 30
CHART_HEIGHT = 120
UNKNOWN_SHOWN = 20
ERRORS_SHOWN = 10
INDEX_SHOWN = 200
FAILED = (Attempt.Status.FAILURE, Attempt.Status.BOUNCED, Attempt.Status.COMPLAINED)


def may_view_mailings(user) -> bool:
    return policy_for(Mailing).user_has_permission(user, "view")


class FiguresPanel(Component):
    """The seed's figures on the admin home page."""

    name = "mailing_figures"
    order = 50
    template_name = "mailing/admin/figures_panel.html"

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {
            "figures": service_figures(self.user),
            "across_all": sees_every_owner(self.user),
        }


def success_rate(counts) -> float | None:
    done = counts["succeeded"] + counts["failed"]
    return round(100 * counts["succeeded"] / done, 1) if done else None


def outcomes(figures: dict) -> dict:
    """Succeeded (sent and not bounced back), failed (at send or bounced), rate."""
    # with_rates took the refusals at send time out of "failed": they are bounces.
    after_sending = figures["bounces"] - figures["send_bounces"]
    counts = {
        "succeeded": max(figures["sent"] - after_sending, 0),
        "failed": figures["failed"] + figures["bounces"],
        "cancelled": figures["cancelled"],
    }
    return {**counts, "rate": success_rate(counts)}


def daily_chart(mailing, today) -> list[dict]:
    """Bars of an inline SVG: sent and failed per day, scaled to the busiest day."""
    since = today - timedelta(days=CHART_DAYS - 1)
    by_day = sends_by_day(mailing, today, CHART_DAYS)
    peak = max([row["succeeded"] + row["failed"] for row in by_day.values()] + [1])
    bars = []
    for offset in range(CHART_DAYS):
        day = since + timedelta(days=offset)
        row = by_day.get(day, {"succeeded": 0, "failed": 0})
        ok_height = CHART_HEIGHT * row["succeeded"] // peak
        fail_height = CHART_HEIGHT * row["failed"] // peak
        bars.append(
            {
                "day": day,
                "x": offset * 12,
                "succeeded": row["succeeded"],
                "failed": row["failed"],
                "ok_y": CHART_HEIGHT - ok_height,
                "ok_height": ok_height,
                "fail_y": CHART_HEIGHT - ok_height - fail_height,
                "fail_height": fail_height,
            }
        )
    return bars


def last_errors(mailing: Mailing) -> list[Attempt]:
    """The latest failures, newest first: one short index range per status."""
    found = []
    for status in FAILED:
        # A failure is always tried: saying so lets the partial time index
        # (attempted_mailing_status) answer.
        found += (
            Attempt.objects.filter(
                mailing=mailing, status=status, attempted_at__isnull=False
            )
            .select_related("client")
            .order_by("-attempted_at", "-id")[:ERRORS_SHOWN]
        )
    found.sort(key=lambda a: (a.attempted_at is not None, a.attempted_at, a.pk))
    return found[::-1][:ERRORS_SHOWN]


def runs_with_waiting(mailing: Mailing, now) -> list[MailingRun]:
    """The latest runs with their event totals, the rows of each open one waiting
    for their delivery window (counted only where there can be some), and those
    waiting for a stopped consumer's lease to lapse (issue 18)."""
    runs = list(
        runs_compared(MailingRun.objects.filter(mailing=mailing)).order_by(
            "-created_at"
        )[:20]
    )
    open_ids = [run.pk for run in runs if run.status in LIVE_RUN]
    waiting = dict(
        Attempt.objects.filter(
            run_id__in=open_ids,
            status=Attempt.Status.PENDING,
            tries=0,
            retry_at__gt=now,
        )
        .values("run_id")
        .annotate(n=Count("id"))
        .values_list("run_id", "n")
    )
    for run in runs:
        run.waiting = waiting.get(run.pk, 0)
        held = waiting_for_lapse(run.pk, now) if run.status in OPEN_RUN else {}
        run.held = held.get("count", 0)
    return runs


class ReportIndexView(RoleGatedMixin, AdminPageMixin, TemplateView):
    page_title = gettext_lazy("Reports")
    header_icon = "table"
    template_name = "mailing/admin/report_index.html"

    allowed = staticmethod(may_view_mailings)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["figures"] = service_figures(self.request.user)
        context["across_all"] = sees_every_owner(self.request.user)
        # The newest mailings first, then their sums: the owner's 200 latest, not
        # every mailing of the service grouped before the limit.
        latest = Mailing.objects.for_user(self.request.user).order_by("-created_at")
        ids = list(latest.values_list("pk", flat=True)[:INDEX_SHOWN])
        # Owners by their ids apart (and only where shown): joined into the sums'
        # GROUP BY, the planner hashed the whole user table for 200 mailings.
        mailings = sends_by_mailing(Mailing.objects.filter(pk__in=ids))
        if context["across_all"]:
            mailings = mailings.prefetch_related(
                Prefetch("owner", User.objects.only("email"))
            )
        context["mailings"] = mailings.order_by("-created_at")
        return context


class MailingReportView(AdminPageMixin, TemplateView):
    page_title = gettext_lazy("Report")
    header_icon = "table"
    template_name = "mailing/admin/mailing_report.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_object_or_404(
            Mailing.objects.select_related("owner"), pk=kwargs["pk"]
        )

    def dispatch(self, request, *args, **kwargs):
        if not policy_for(Mailing).user_has_permission_for_instance(
            request.user, "view", self.object
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.object)

    def get_parent_breadcrumbs(self):
        return mailing_crumbs(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        figures = mailing_figures(self.object)
        counts = outcomes(figures)
        bars = daily_chart(self.object, timezone.localdate())
        may_change = policy_for(Mailing).user_has_permission_for_instance(
            self.request.user, "change", self.object
        )
        context.update(
            object=self.object,
            counts=counts,
            rate=counts["rate"],
            figures=figures,
            complaint_limit=COMPLAINT_LIMIT,
            bounce_limit=BOUNCE_LIMIT,
            bars=bars,
            timeline=mailing_timeline(self.object),
            chart_width=CHART_DAYS * 12,
            chart_height=CHART_HEIGHT,
            errors=last_errors(self.object),
            runs=runs_with_waiting(self.object, timezone.now()),
            unknown=unresolved_unknown(self.object)
            .select_related("client")
            .order_by("pk")[:UNKNOWN_SHOWN],
            unknown_count=unresolved_unknown(self.object).count(),
            may_control=may_change,
            may_resend=may_change,
        )
        return context
