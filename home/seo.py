"""What search engines and link previews see of a page."""

from django.conf import settings
from django.utils import translation


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
        lastmod = self.last_published_at or self.latest_revision_created_at
        entries = []
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                url = self.get_url(request)
            if url:
                entries.append(
                    {"location": settings.BASE_URL + url, "lastmod": lastmod}
                )
        return entries
