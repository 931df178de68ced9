"""Absolute addresses and language alternates for meta tags and the switcher.

Built from BASE_URL, not from the request's Host, so a cached page is the same
whoever asked first.
"""

from functools import lru_cache

from django import template
from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import get_language

from home import chrome, kept_values, page_cache, translations

register = template.Library()


@register.filter
def grouped(count: int) -> str:
    """A count as the page's language writes it: 12 345 in Russian, 12,345 in
    English. Only here: USE_THOUSAND_SEPARATOR would group ids and years too."""
    return number_format(count, use_l10n=True, force_grouping=True)


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
    """Each language's address of this page (its translation, or that language's
    home page): [{code, name, url, absolute, current, translated}]."""
    from wagtail.models import Page

    request = context["request"]
    page = context.get("page")
    page = page if isinstance(page, Page) else None
    return translations.alternates(request, page, get_language(), _base_url(request))


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
    language = get_language()
    if language == page_cache.request_language(request):
        entries = kept_values.kept(
            request,
            kept_values.MENU,
            lambda: _menu_entries(site, request, language),
            ("site", "language"),
        )
    else:
        # A view outside the language prefixes (unsubscribe, preferences) shown in
        # the visitor's language: the kept menu is the path's language's, and one
        # computed here would be kept under it (an English "Blog" on Russian pages).
        entries = _menu_entries(site, request, language)
    current = getattr(context.get("page"), "path", "")
    items = [
        {**entry, "active": current.startswith(entry["path"])} for entry in entries
    ]
    return {"items": items, "request": request}


def _menu_entries(site, request, language: str) -> list[dict]:
    return [
        {"path": page.path, "url": page.get_url(request), "title": page.title}
        # The root page in the request's language: each tree has its own menu.
        for page in translations.localized_root(site, language)
        .get_children()
        .live()
        .in_menu()
    ]


@lru_cache(maxsize=64)
def _filters(spec: str) -> tuple:
    """Wagtail's Filters for `spec` (braces expanded), made once per process.

    Wagtail's image tags make new ones on every render, and a Filter parses its
    operations (with inspect) the first time it is asked for a rendition:
    profiled, half of an uncached post's main picture.
    """
    from wagtail.images.models import Filter

    return tuple(Filter(spec=each) for each in Filter.expand_spec(spec))


@register.simple_tag
def rendition(image, spec: str):
    """`image`'s rendition for one filter spec, as `{% image ... as name %}` gives it,
    through Wagtail's get_renditions: a rendition prefetched with the image is used
    as it is, where the image tag writes it to the rendition cache again on every
    render (a pickled Redis write per uncached post, profiled)."""
    from wagtail.images.shortcuts import get_renditions_or_not_found

    (only,) = _filters(spec)
    return get_renditions_or_not_found(image, [only])[only.spec]


@register.simple_tag
def picture(image, spec: str, **attrs):
    """Wagtail's `{% picture %}` (one <picture>, a source per format) with the
    Filters of `spec` made once (_filters): `spec` is one string, as in a rendition
    spec with braces.

    Made once per image object too: a post read again after its publish keeps
    the image object it showed (BlogPage.keep_from), and profiled, the markup of
    its six renditions was a tenth of that render.
    """
    from wagtail.images.models import Picture
    from wagtail.images.shortcuts import get_renditions_or_not_found

    if not image:
        return ""
    made = image.__dict__.setdefault("pictures_made", {})
    key = (spec, tuple(sorted(attrs.items())))
    if key not in made:
        renditions = get_renditions_or_not_found(image, _filters(spec))
        made[key] = Picture(renditions, attrs).__html__()
    return made[key]


@register.simple_tag(takes_context=True)
def page_generation(context) -> str:
    """For fragment cache keys: a change to this page, its language's tree or the
    sites makes new ones."""
    return page_cache.page_generation(context["request"])


class ChromeNode(template.Node):
    def __init__(self, name: str, nodelist):
        self.name = name
        self.nodelist = nodelist

    def render(self, context):
        request, page = context.get("request"), context.get("page")
        return chrome.kept(
            request, page, self.name, lambda: self.nodelist.render(context)
        )


@register.tag("chrome")
def do_chrome(parser, token):
    """{% chrome "name" %}...{% endchrome %}: a piece of the page chrome, kept per
    address while the generations it shows stand (home.chrome). Only what shows
    no page's own content goes inside."""
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError("{% chrome %} takes one quoted name")
    nodelist = parser.parse(("endchrome",))
    parser.delete_first_token()
    return ChromeNode(bits[1][1:-1], nodelist)
