"""Absolute addresses and language alternates for meta tags and the switcher.

Built from BASE_URL, not from the request's Host, so a cached page is the same
whoever asked first.
"""

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language

from home import page_cache
from home.page_cache import per_generation

register = template.Library()


def _base_url(request) -> str:
    return settings.BASE_URL or request.build_absolute_uri("/").rstrip("/")


@register.simple_tag(takes_context=True)
def absolute_url(context, url: str) -> str:
    """`url` (a path or an absolute address) as an absolute address."""
    if not url or url.startswith(("http://", "https://")):
        return url or ""
    return _base_url(context["request"]) + url


@register.simple_tag(takes_context=True)
def canonical_url(context) -> str:
    """This address without the query string, except for the page of a list."""
    request = context["request"]
    url = _base_url(request) + request.path
    page = request.GET.get("page")
    return f"{url}?page={page}" if page and page.isdigit() and page != "1" else url


@register.simple_tag(takes_context=True)
def language_alternates(context) -> list[dict]:
    """Each language's address of this page: [{code, name, url, current}]."""
    request = context["request"]
    current = get_language()
    query = request.META.get("QUERY_STRING", "")
    alternates = []
    for code, name in settings.LANGUAGES:
        path = translate_url(request.path, code)
        alternates.append(
            {
                "code": code,
                "name": name,
                "url": path + (f"?{query}" if query else ""),
                "absolute": _base_url(request) + path,
                "current": code == current,
            }
        )
    return alternates


@register.inclusion_tag("home/includes/site_menu.html", takes_context=True)
def site_menu(context) -> dict:
    """The site root's live children marked "show in menus" (the blog, say).

    The same for every visitor of a site in one language: kept until the pages change.
    """
    from wagtail.models import Site

    request = context.get("request")
    site = Site.find_for_request(request) if request else None
    if site is None:
        return {"items": [], "request": request}
    key = f"sitemenu:{site.pk}:{get_language()}"
    entries = per_generation(key, lambda: _menu_entries(site, request))
    current = getattr(context.get("page"), "path", "")
    items = [
        {**entry, "active": current.startswith(entry["path"])} for entry in entries
    ]
    return {"items": items, "request": request}


def _menu_entries(site, request) -> list[dict]:
    return [
        {"path": page.path, "url": page.get_url(request), "title": page.title}
        for page in site.root_page.get_children().live().in_menu()
    ]


@register.simple_tag(takes_context=True)
def page_generation(context) -> int:
    """For fragment cache keys: a change anywhere in the pages makes new ones."""
    return page_cache.page_generation(context["request"])
