"""HTML that survives mail clients: absolute links, email-sized images, inlined CSS.

Mail clients have no base address, so every `src` and `href` leaves absolute
(BASE_URL); most drop <style> blocks, so CSS is inlined by css-inline (a maintained
Rust inliner), keeping only the @media rules (mobile widths, dark mode) that
clients which read them apply on top.
"""

import re
from urllib.parse import urlsplit

import css_inline
import nh3
from django.conf import settings
from wagtail.images.rich_text import ImageEmbedHandler
from wagtail.models import Page
from wagtail.rich_text import features
from wagtail.rich_text.pages import PageLinkHandler
from wagtail.rich_text.rewriters import EmbedRewriter, LinkRewriter, MultiRuleRewriter

# The width of the email's content column, in CSS pixels.
CONTENT_WIDTH = 560
# Renditions are made at twice the shown width: sharp on high-density screens.
DENSITY = 2
# A whitelisted placeholder in an href is filled per recipient: never rewritten.
_PLACEHOLDER_URL = re.compile(r"^\{\{\s*\w+\s*\}\}$")
# An anchor as nh3 writes it without an href (it may keep hreflang and adds rel).
_BARE_ANCHOR = re.compile(r'<a(?:\s+(?:hreflang|rel)="[^"]*")*>(.*?)</a>', re.DOTALL)

_inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def absolute_url(url: str) -> str:
    """`url` as mail clients need it: relative addresses get BASE_URL in front."""
    url = url.strip()
    if not url or url.startswith("#") or _PLACEHOLDER_URL.match(url):
        return url
    if url.startswith("//"):
        return f"{urlsplit(settings.BASE_URL).scheme or 'https'}:{url}"
    if urlsplit(url).scheme:
        return url
    return settings.BASE_URL + ("" if url.startswith("/") else "/") + url


def email_rendition(image, width: int) -> tuple[str, int]:
    """(absolute src, shown width) of `image` at most `width` pixels wide."""
    rendition = image.get_rendition(f"width-{width * DENSITY}")
    shown = min(width, rendition.width)
    return absolute_url(rendition.url), shown


class EmailImageHandler(ImageEmbedHandler):
    """Images in rich text as one column-wide rendition with its alt text."""

    @classmethod
    def expand_db_attributes_many(cls, attrs_list: list[dict]) -> list[str]:
        tags = []
        for attrs, image in zip(attrs_list, cls.get_many(attrs_list), strict=True):
            alt = nh3.clean_text(attrs.get("alt") or (image.title if image else ""))
            if image is None:
                tags.append("")
                continue
            src, width = email_rendition(image, CONTENT_WIDTH)
            tags.append(f'<img src="{src}" width="{width}" alt="{alt}">')
        return tags


class EmailPageLinkHandler(PageLinkHandler):
    """Page links only to pages everyone can open: an email goes out to people
    who cannot see a draft or a private page, and a page can be unpublished or
    made private after the message was written, so this is decided at each
    render, not at save. Another page's link keeps its text without the link."""

    @classmethod
    def get_many(cls, attrs_list: list[dict]) -> list:
        pages = super().get_many(attrs_list)
        ids = [page.pk for page in pages if page is not None]
        public = set(
            Page.objects.live().public().filter(pk__in=ids).values_list("pk", flat=True)
        )
        return [
            page if page is not None and page.pk in public else None for page in pages
        ]


def _email_rewriter() -> MultiRuleRewriter:
    links = {**features.get_link_types(), "page": EmailPageLinkHandler}
    embeds = {**features.get_embed_types(), "image": EmailImageHandler}
    return MultiRuleRewriter(
        [
            LinkRewriter(
                bulk_rules={
                    kind: handler.expand_db_attributes_many
                    for kind, handler in links.items()
                }
            ),
            EmbedRewriter(
                bulk_rules={
                    kind: handler.expand_db_attributes_many
                    for kind, handler in embeds.items()
                }
            ),
        ]
    )


def _absolute_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src"):
        return absolute_url(value)
    return value


def email_rich_text(stored: str) -> str:
    """Wagtail's stored rich text as sanitised email HTML with absolute URLs.

    Pages, documents and images are expanded as on the site but images become
    email renditions; media embeds (iframes) do not work in mail and are dropped.
    """
    clean = nh3.clean(_email_rewriter()(stored), attribute_filter=_absolute_attribute)
    # A page link that may not be followed (or whose page is gone) came out as a
    # bare <a>, which the layout's CSS would still paint as a link: its words only.
    # Anchors never nest in parsed HTML, so the next </a> is its end.
    return _BARE_ANCHOR.sub(r"\1", clean)


def inline_css(document: str) -> str:
    return _inliner.inline(document)
