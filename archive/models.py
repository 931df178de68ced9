"""The public archive of mailings whose owners opted in: a Wagtail page that routes
to each mailing's issues and to each issue, addressed to nobody."""

from django.core.paginator import Paginator
from django.db import models
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.models import Page

from home.page_cache import CachedPageMixin, canonical_redirect
from home.pagination import page_or_404
from home.seo import SeoMixin
from mailing.issues import (
    archive_html,
    archive_subject,
    archived_mailings,
    archived_runs,
)
from mailing.views import email_page


class ArchivePage(CachedPageMixin, RoutablePageMixin, SeoMixin, Page):
    """Mailings in the archive, then one mailing's issues, then one issue.

    CachedPageMixin first: its serve() wraps every route's response.
    """

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]

    page_size = 20
    page_cache_query_parameters = ("page",)
    # It lists mailings: dropped with its language's lists (archive.signals).
    page_cache_lists_pages = True

    @path("")
    def mailings(self, request):
        paginator = Paginator(archived_mailings(), self.page_size)
        return self._render(
            request,
            "archive/archive_page.html",
            {"mailings": page_or_404(paginator, request)},
        )

    @path("<int:mailing_id>/")
    def issues(self, request, mailing_id: int):
        mailing = get_object_or_404(archived_mailings(), pk=mailing_id)
        issues = page_or_404(
            Paginator(archived_runs(mailing_id), self.page_size), request
        )
        for run in issues:
            run.subject = archive_subject(run)
        return self._render(
            request,
            "archive/archive_issues.html",
            {"mailing": mailing, "issues": issues},
        )

    @path("<int:mailing_id>/<int:run_id>/")
    def issue(self, request, mailing_id: int, run_id: int):
        if request.GET:
            # The page declares "page" for its lists; an issue reads no parameter,
            # so each value would otherwise be a cache entry of its own.
            return canonical_redirect(request, ())
        run = get_object_or_404(archived_runs(mailing_id), pk=run_id)
        return self._render(
            request,
            "archive/archive_issue.html",
            {"mailing": run.mailing, "run": run, "subject": archive_subject(run)},
        )

    @path("<int:mailing_id>/<int:run_id>/email/")
    def issue_email(self, request, mailing_id: int, run_id: int):
        if request.GET:
            return canonical_redirect(request, ())
        run = get_object_or_404(archived_runs(mailing_id), pk=run_id)
        response = email_page(archive_html(run, self.full_url or ""))
        response["Cache-Control"] = "public"
        # Shown in the issue page's frame, on this site only.
        response["X-Frame-Options"] = "SAMEORIGIN"
        return response

    def _render(self, request, template: str, extra: dict):
        context = self.get_context(request)
        context.update(extra)
        return TemplateResponse(request, template, context)

    def serve_preview(self, request, mode_name):
        return self.mailings(request)

    parent_page_types = ["home.HomePage"]
    subpage_types = []

    class Meta:
        verbose_name = _("mailing archive")
        verbose_name_plural = _("mailing archives")
