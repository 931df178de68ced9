"""Reports: the dashboard panel, the reports index and one mailing's report."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.ui.components import Component

from .admin_pages import AdminPageMixin, mailing_crumbs
from .admin_views import RoleGatedMixin
from .control import OPEN_RUN
from .leases import waiting_for_lapse
from .models import Attempt, Mailing, MailingRun, sees_every_owner
from .permissions import policy_for
from .resend import unresolved_unknown
from .stats import service_figures

CHART_DAYS = 30
CHART_HEIGHT = 120
UNKNOWN_SHOWN = 20
FAILED = (Attempt.Status.FAILURE, Attempt.Status.BOUNCED, Attempt.Status.COMPLAINED)
SUCCEEDED = (Attempt.Status.SUCCESS, Attempt.Status.DELIVERED)


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


def outcome_counts(attempts):
    return attempts.aggregate(
        succeeded=Count("id", filter=Q(status__in=SUCCEEDED)),
        failed=Count("id", filter=Q(status__in=FAILED)),
        cancelled=Count("id", filter=Q(status=Attempt.Status.CANCELLED)),
    )


def success_rate(counts) -> float | None:
    done = counts["succeeded"] + counts["failed"]
    return round(100 * counts["succeeded"] / done, 1) if done else None


def daily_chart(attempts, today) -> list[dict]:
    """Bars of an inline SVG: success and failure per day, scaled to the busiest day."""
    since = today - timedelta(days=CHART_DAYS - 1)
    rows = (
        attempts.filter(attempted_at__date__gte=since)
        .annotate(day=TruncDate("attempted_at"))
        .values("day")
        .annotate(
            succeeded=Count("id", filter=Q(status__in=SUCCEEDED)),
            failed=Count("id", filter=Q(status__in=FAILED)),
        )
    )
    by_day = {row["day"]: row for row in rows}
    peak = max([row["succeeded"] + row["failed"] for row in rows] + [1])
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


def runs_with_waiting(mailing: Mailing, now) -> list[MailingRun]:
    """The latest runs, each with its rows waiting for their delivery window and
    those waiting for a stopped consumer's lease to lapse."""
    waiting = Q(
        attempts__status=Attempt.Status.PENDING,
        attempts__tries=0,
        attempts__retry_at__gt=now,
    )
    runs = list(
        MailingRun.objects.filter(mailing=mailing)
        .annotate(waiting=Count("attempts", filter=waiting))
        .order_by("-created_at")[:20]
    )
    for run in runs:
        # Rows a stopped consumer holds until its lease lapses (issue 18).
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
        context["mailings"] = (
            Mailing.objects.for_user(self.request.user)
            .select_related("owner")
            .annotate(
                succeeded=Count("attempts", filter=Q(attempts__status__in=SUCCEEDED)),
                failed=Count("attempts", filter=Q(attempts__status__in=FAILED)),
            )
            .order_by("-created_at")[:200]
        )
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
        attempts = Attempt.objects.filter(mailing=self.object)
        counts = outcome_counts(attempts)
        bars = daily_chart(attempts, timezone.localdate())
        may_change = policy_for(Mailing).user_has_permission_for_instance(
            self.request.user, "change", self.object
        )
        context.update(
            object=self.object,
            counts=counts,
            rate=success_rate(counts),
            bars=bars,
            chart_width=CHART_DAYS * 12,
            chart_height=CHART_HEIGHT,
            errors=attempts.filter(status__in=FAILED)
            .select_related("client")
            .order_by("-attempted_at")[:10],
            runs=runs_with_waiting(self.object, timezone.now()),
            unknown=unresolved_unknown(self.object)
            .select_related("client")
            .order_by("pk")[:UNKNOWN_SHOWN],
            unknown_count=unresolved_unknown(self.object).count(),
            may_control=may_change,
            may_resend=may_change,
        )
        return context
