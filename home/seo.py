"""What search engines and link previews see of a page."""

from django.conf import settings
from wagtail.contrib.sitemaps import Sitemap
from wagtail.models import Page


class SeoMixin:
    @property
    def meta_description(self) -> str:
        """For the description and Open Graph tags: the editor's words first."""
        return (
            self.search_description
            or getattr(self, "intro", "")
            or getattr(self, "hero_text", "")
        )

    @property
    def display_image(self):
        """The picture for link previews (Open Graph), if the page has one."""
        return None

    def get_sitemap_urls(self, request=None):
        # Built from BASE_URL: the Site's hostname is Wagtail's "localhost" default.
        # Each translation is a page of its own (see LocalizedSitemap): one address.
        url = self.get_url(request)
        if not url:
            return []
        lastmod = self.last_published_at or self.latest_revision_created_at
        return [{"location": settings.BASE_URL + url, "lastmod": lastmod}]


class LocaleSitemap(Sitemap):
    """One language's pages: Wagtail's sitemap lists the Site's root page tree
    only, and the English tree is that root's translation, a tree of its own."""

    language_code = ""

    def items(self):
        root = self.get_wagtail_site().root_page
        tree = root.get_translations(inclusive=True).filter(
            locale__language_code=self.language_code
        )
        pages = Page.objects.none()
        for translated_root in tree:
            pages = Page.objects.descendant_of(translated_root, inclusive=True)
        return pages.live().public().order_by("path").defer_streamfields().specific()


def locale_sitemaps() -> dict[str, type[LocaleSitemap]]:
    """A sitemap section per language, for the sitemap index (site_config.urls)."""
    return {
        code: type(f"LocaleSitemap_{code}", (LocaleSitemap,), {"language_code": code})
        for code, _name in settings.LANGUAGES
    }
