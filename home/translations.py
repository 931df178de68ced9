"""Where each language's version of the current page is, for the switcher and hreflang.

A page's translations share its translation_key (Wagtail i18n). Where the other
language has no live translation, the switcher goes to that language's home page,
and no hreflang alternate is announced: search engines get only real translations.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve, translate_url
from django.utils.translation import get_language_from_path, override
from wagtail.models import Page, Site

from . import kept_values


def alternates(request, page: Page | None, current: str, base_url: str) -> list[dict]:
    """[{code, name, url, absolute, current, translated}], in LANGUAGES order."""
    if page is None or getattr(request, "is_preview", False):
        urls = {code: _same_view(request, code) for code, _name in settings.LANGUAGES}
        if len(set(urls.values())) == 1:
            # A view outside the language prefixes (unsubscribe, subscribe, an
            # email's web version) has one address: it speaks the reader's
            # Accept-Language, and buttons that all led back here switched nothing.
            return []
        return [
            _entry(code, name, current, base_url, urls[code], True)
            for code, name in settings.LANGUAGES
        ]
    # Read once per request (the switcher and the meta tags both show them), kept
    # while this address's translations stand: a publish of the page itself leaves
    # them (profiled, reading them again was a fifth of the render that follows
    # it); a translation's publish, a new slug or a move does not.
    urls = getattr(request, "page_alternates", None)
    if urls is None:
        urls = request.page_alternates = kept_values.kept(
            request,
            kept_values.ALTERNATES,
            lambda: page_urls(request, page),
            ("site", "language", "translations"),
        )
    return [
        _entry(code, name, current, base_url, *_same_place(request, page, code, urls))
        for code, name in settings.LANGUAGES
    ]


def _same_place(request, page: Page, code: str, urls) -> tuple[str, bool]:
    """(address, whether a translation) with a list's place (a tag, a page number:
    its `query_in`) carried over where the translation has it: the switcher on
    page 2 or a tag led to the other language's first page."""
    url, translated = urls[code]
    query_in = getattr(page, "query_in", None)
    if not translated or query_in is None:
        return url, translated
    places = request.__dict__.setdefault("page_places", {})  # switcher and meta
    if code not in places:
        places[code] = query_in(request, code)
    query = places[code]
    if query is None:  # not there: its first page, and no hreflang alternate
        return url, False
    return (f"{url}?{query}" if query else url), translated


def page_urls(request, page: Page) -> dict[str, tuple[str, bool]]:
    """{code: (address, whether it is the page's translation)}: the same for every
    visitor and language, so kept until the pages change (a publish, a move)."""
    found = live_translations(page.translation_key)
    homes = None
    urls = {}
    for code, _name in settings.LANGUAGES:
        translation = found.get(code)
        if translation is not None:
            urls[code] = (translation.get_url(request), True)
            continue
        if homes is None:
            site = Site.find_for_request(request)
            homes = live_translations(site.root_page.translation_key) if site else {}
        home = homes.get(code)
        urls[code] = (home.get_url(request) if home else _prefix(code), False)
    return urls


def address_in(request, url: str, code: str) -> str:
    """`url` (a local address) in language `code`: a page's translation or that
    language's home, another view under `code`'s prefix."""
    path = urlsplit(url).path
    # Read in the address's own language: under the visitor's, /en/blog/ would be
    # a Russian page called "en" and /blog/ no English address at all.
    with override(get_language_from_path(path) or settings.LANGUAGE_CODE):
        try:
            match = resolve(path)
        except Resolver404:
            return url
        if match.url_name != "wagtail_serve":
            return translate_url(url, code)
        page = Page.find_for_request(request, "".join(match.args))
    return page_urls(request, page)[code][0] if page else url


def live_translations(translation_key) -> dict[str, Page]:
    """The live pages of one translation_key by language code: one query."""
    pages = (
        Page.objects.filter(translation_key=translation_key)
        .live()
        .select_related("locale")
    )
    return {found.locale.language_code: found for found in pages}


def localized_root(site: Site, code: str) -> Page:
    """The site's root page in `code` if it is live there, else the root itself: one
    query (Wagtail's Page.localized takes two or three)."""
    return live_translations(site.root_page.translation_key).get(code, site.root_page)


def _prefix(code: str) -> str:
    return translate_url("/", code)


def _same_view(request, code: str) -> str:
    # Not a page (sign-in, sign-up): the same view under the other prefix.
    path = translate_url(request.path, code)
    query = request.META.get("QUERY_STRING", "")
    return path + (f"?{query}" if query else "")


def _entry(code, name, current, base_url, url, translated) -> dict:
    path, _, query = url.partition("?")
    # hreflang names what the canonical link does: a list's page number, no tag.
    kept = f"?{query}" if query.startswith("page=") and "&" not in query else ""
    return {
        "code": code,
        "name": name,
        "url": url,
        "absolute": base_url + path + kept,
        "current": code == current,
        "translated": translated,
    }
