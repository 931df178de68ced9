"""What every page of a site and language shows around its content (the menu, the
language switcher's addresses), kept in Redis per generation and read in the same
round trip as the request's generations.

Profiled on an uncached post: each was a round trip of its own (its value and the
generations again). Now home.page_cache reads them with the generations; a request
the page cache looked up (and missed) reads each in one round trip. Keyed by what
decides them before any routing: the host and port (the Site), the language and,
for the switcher, the path. Stored as JSON with the generations they were computed
under (as read before the render: a change during it is never taken for current),
no pickle.
"""

import hashlib
import json

from django.http.request import split_domain_port

from . import page_store

MENU = "menu"
ALTERNATES = "alternates"
SECONDS = 60


def value_names(request, language: str) -> dict[str, str]:
    """{what: key} of the kept values a page of this request shows."""
    site = f"{split_domain_port(request.get_host())[0]}:{request.get_port()}"
    address = f"{site}|{language}|{request.path}".encode()
    digest = hashlib.blake2b(address, digest_size=16).hexdigest()
    return {
        MENU: f"pagecache:menu:{site}:{language}",
        ALTERNATES: f"pagecache:alternates:{digest}",
    }


def kept(request, what: str, compute, roles: tuple[str, ...]):
    """compute(), kept while the request's generations `roles` are unchanged."""
    from .page_cache import page_generations, request_language

    found = page_generations(request)
    if not page_store.available() or not found["site"]:  # no Redis, or not answering
        return compute()
    current = [found[role] for role in roles]
    name = value_names(request, request_language(request))[what]
    prefetched = getattr(request, "kept_values", {})
    raw = prefetched[what] if what in prefetched else _read(name)
    known = _decode(raw)
    if known is not None and known.get("generations") == current:
        return known["value"]
    value = compute()
    stored = {"generations": current, "value": value}
    page_store.write(name, json.dumps(stored).encode(), SECONDS)
    return value


def _read(name: str):
    found = page_store.read([name])
    return None if found is None else found[0]


def _decode(raw) -> dict | None:
    if raw is None:
        return None
    try:
        known = json.loads(raw)
    except ValueError:
        return None
    return known if isinstance(known, dict) else None
