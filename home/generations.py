"""Generations: counters in Redis whose change drops what was cached under them.

Each cached page, fragment, menu or Site records the generations it was computed
under, and counts as current only while they are unchanged. Four kinds, so that a
change drops only what can show it:

- site: Sites and view restrictions (any page, any language);
- language: one language's tree as a whole (its home page, its top-level pages and
  menu, moves, slugs: anything every page of that language shows);
- listing: one language's lists of pages (home, blog index: any post's publish);
- page: one address (a post, and each of its translations, whose switchers link to
  it);
- translations: what one address's language switcher shows, its translations'
  addresses: bumped when a translation of its page is published or unpublished,
  not when the page itself is (it names only its translations).

And one more that no cached copy records: views, the view counts as stored (blog's
flush bumps it). Only a page kept in a process to be routed (home.routing) shows
them as it read them, and is read again.

A post's publish bumps its own addresses, its language's listing and its list's
translations (their switchers lead to its list's tags and page numbers): another
post, and the other language's other pages, keep their cached copies. Counters
only grow (see page_store.bump), so a value recorded before a bump never matches
again.
"""

import hashlib
import logging

from django.core.cache import cache
from django.db import transaction

from . import page_store

logger = logging.getLogger(__name__)

SITE = "pagecache:generation"
ROLES = ("site", "language", "listing", "page")
VIEWS = "pagecache:views"


def language_generation(code: str) -> str:
    return f"{SITE}:{code}"


def listing_generation(code: str) -> str:
    return f"pagecache:listing:{code}"


def path_generation(path: str) -> str:
    digest = hashlib.blake2b(path.encode(), digest_size=16).hexdigest()
    return f"pagecache:path:{digest}"


def translations_generation(path: str) -> str:
    digest = hashlib.blake2b(path.encode(), digest_size=16).hexdigest()
    return f"pagecache:translations:{digest}"


def request_generation_names(path: str, language: str) -> dict[str, str]:
    """{role: generation name} for a request of `path` in `language`."""
    return {
        "site": SITE,
        "language": language_generation(language),
        "listing": listing_generation(language),
        "page": path_generation(path),
        "translations": translations_generation(path),
    }


def bump(names) -> None:
    """Best effort: with Redis unreachable the change is logged and lost (the
    cached copies expire within their minute)."""
    try:
        page_store.bump(sorted(set(names)))
    except Exception as error:  # noqa: BLE001 - any Redis failure: serve on
        logger.warning("page cache not told of a change: %s", error)


def bump_now_and_on_commit(names) -> None:
    # Now, and again once the change is visible to other connections: a render that
    # read the old rows between the two would otherwise be stored as current.
    names = sorted(set(names))
    bump(names)
    transaction.on_commit(lambda: bump(names))


def every_generation(languages) -> list[str]:
    return [SITE] + languages_generations(languages)


def languages_generations(languages) -> list[str]:
    return [language_generation(code) for code in languages] + [
        listing_generation(code) for code in languages
    ]


def per_generation(key: str, compute, names: list[str], seconds: int = 60):
    """compute(), kept until one of the generations `names` changes or `seconds` pass.

    Only in Redis: a local-memory cache is one process's, and another process's
    change would not reach it.
    """
    if not page_store.available():
        return compute()
    found = cache.get_many([*names, key])
    current = [page_store.as_generation(found.get(name)) for name in names]
    known = found.get(key)
    if known is not None and known[0] == current:
        return known[1]
    value = compute()
    cache.set(key, (current, value), seconds)
    return value


def invalidate_pages() -> None:
    """Drop every cached page, fragment, menu and Site (an operator's reset)."""
    from django.conf import settings

    bump(every_generation([code for code, _name in settings.LANGUAGES]))
