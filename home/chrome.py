"""The page chrome (the navbar with its menu and language switcher, the footer, the
links in the head), rendered once per address and kept in the process while what
it shows stands.

Profiled on the first visitor after a post's publish: the chrome was a fifth of
the render, and none of it shows the post. It names the generations of the Sites,
the language's tree and the address's translations (home.generations) as the
request read them before the render, never the page's own: a post's publish
leaves it, while a menu change (a top-level page published), a translation's
publish, a move or a Site change bumps a generation it names, and every process
renders it again on its next request.

Only for a render the page cache will store (an anonymous visitor, the
generations read): a signed-in visitor's navbar shows their own links and a form
token. Without Redis nothing is kept.
"""

from django.utils.translation import get_language
from wagtail.models import Page

KEPT_LIMIT = 2_000
_kept: dict[tuple, str] = {}


def kept(request, page, name: str, render) -> str:
    """render(), or what it gave for this page at this address while its
    generations stand. Without a page (an error page, a view) nothing is kept: a
    page published at that address later bumps none of them."""
    key = _key(request, page, name)
    if key is None:
        return render()
    found = _kept.get(key)
    if found is None:
        if len(_kept) >= KEPT_LIMIT:
            _kept.clear()
        found = _kept[key] = render()
    return found


def _key(request, page, name: str) -> tuple | None:
    if request is None or not getattr(request, "page_cache_stores", False):
        return None
    if not isinstance(page, Page) or page.pk is None:
        return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:  # never stored: their own navbar
        return None
    found = getattr(request, "page_generations", None)
    if not found or not found.get("site"):  # Redis did not answer
        return None
    return (
        name,
        page.pk,
        request.get_host(),
        request.get_port(),
        request.get_full_path(),
        get_language(),
        found["site"],
        found["language"],
        found["translations"],
    )


def forget_chrome() -> None:
    """Drop what this process keeps (tests: a rolled-back page never bumps)."""
    _kept.clear()
