from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from . import page_cache
from .page_cache import CachedPageMixin
from .routing import DirectRouteMixin
from .seo import SeoMixin
from .services import live_figures


class FeatureBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), max_length=80)
    text = blocks.TextBlock(label=_("text"), max_length=400)

    class Meta:
        icon = "pick"
        label = _("Feature")
        template = "home/blocks/feature.html"


class HomePage(DirectRouteMixin, SeoMixin, CachedPageMixin, Page):
    """The site root: what Vestnik does, its live figures and the latest writing."""

    hero_title = models.CharField(_("hero title"), max_length=120, blank=True)
    hero_text = models.TextField(_("hero text"), max_length=600, blank=True)
    features = StreamField(
        [("feature", FeatureBlock())], blank=True, verbose_name=_("features")
    )
    cta_text = models.CharField(
        _("sign-up button text"), max_length=60, blank=True, default=""
    )

    content_panels = Page.content_panels + [
        FieldPanel("hero_title"),
        FieldPanel("hero_text"),
        FieldPanel("features"),
        FieldPanel("cta_text"),
    ]

    # The figures change under it: cached whole for one minute only.
    page_cache_seconds = 60
    page_cache_lists_pages = True  # the latest posts

    @property
    def localized(self):
        # Wagtail routes every request from site.root_page.localized: one query for
        # the active locale, two more for a translation. The root page home.sites
        # keeps for a site generation (any root page's publish bumps it) keeps its
        # translations for that generation too; any other instance asks Wagtail.
        kept = getattr(self, "kept_translations", None)
        if kept is None:
            return super().localized
        code = get_language()
        if code not in kept:
            translation = super().localized.specific
            page_cache.keep_view_restrictions(translation)
            kept[code] = translation
        return kept[code]

    def get_context(self, request, *args, **kwargs):
        from blog.models import BlogPage

        context = super().get_context(request, *args, **kwargs)
        context["figures"] = live_figures()
        # This language's posts only: each locale has its own tree.
        posts = BlogPage.objects.filter(locale_id=self.locale_id)
        context["posts"] = posts.random_cards(3)
        return context

    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("home page")
        verbose_name_plural = _("home pages")
