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
from wagtail.rich_text import features
from wagtail.rich_text.rewriters import EmbedRewriter, LinkRewriter, MultiRuleRewriter

# The width of the email's content column, in CSS pixels.
CONTENT_WIDTH = 560
# Renditions are made at twice the shown width: sharp on high-density screens.
DENSITY = 2
# A whitelisted placeholder in an href is filled per recipient: never rewritten.
_PLACEHOLDER_URL = re.compile(r"^\{\{\s*\w+\s*\}\}$")

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


def _email_rewriter() -> MultiRuleRewriter:
    links = features.get_link_types()
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
    return nh3.clean(_email_rewriter()(stored), attribute_filter=_absolute_attribute)


def inline_css(document: str) -> str:
    return _inliner.inline(document)
