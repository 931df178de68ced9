"""The furniture every custom admin page shares, so it looks like Wagtail's own.

Wagtail's WagtailAdminTemplateMixin gives a bare "Home" breadcrumb: its slim header
then shows "Home" where the page's title belongs. Here the trail goes from Home
through the page's parents to its own title, and mailing/admin/page.html shows the
title (with the object it is about) as the heading, with Wagtail's spacing.
"""

from django.urls import reverse
from django.utils.text import capfirst
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .models import Mailing

Crumb = dict[str, str]


class AdminPageMixin(WagtailAdminTemplateMixin):
    """Home › parents › this page's title. Override get_parent_breadcrumbs()."""

    template_name = "mailing/admin/page.html"

    def get_parent_breadcrumbs(self) -> list[Crumb]:
        return []

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            *self.get_parent_breadcrumbs(),
            {"url": "", "label": self.get_page_title()},
        ]


def listing_crumb(model) -> Crumb:
    namespace = f"mailing_{model._meta.model_name}"
    return {
        "url": reverse(f"{namespace}:list"),
        "label": capfirst(model._meta.verbose_name_plural),
    }


def mailing_crumbs(mailing: Mailing) -> list[Crumb]:
    """Mailings › this mailing: the way back from a mailing's own pages."""
    return [
        listing_crumb(Mailing),
        {
            "url": reverse("mailing_mailing:inspect", args=[mailing.pk]),
            "label": str(mailing),
        },
    ]
