"""Template helpers for email layouts: absolute links and email-sized images."""

from django import template

from ..email_html import CONTENT_WIDTH, absolute_url, email_rendition

register = template.Library()


@register.filter
def absolute(url) -> str:
    return absolute_url(str(url or ""))


@register.simple_tag
def email_image(image, width: int = CONTENT_WIDTH) -> dict:
    """{% email_image image 200 as img %}: img.src (absolute) and img.width."""
    src, shown = email_rendition(image, int(width))
    return {"src": src, "width": shown}


@register.filter
def email_rich_text(value) -> str:
    """A RichTextBlock's value as sanitised email HTML with absolute URLs."""
    from django.utils.safestring import mark_safe

    from ..email_html import email_rich_text as convert

    return mark_safe(convert(getattr(value, "source", value) or ""))  # noqa: S308  # nosec B308 B703 - sanitised by nh3
