"""The one place that reaches into Wagtail's, treebeard's, Django's and redis-py's
internals, for the page-speed stack (home.sites, home.routing, home.page_store,
home.page_cache). No documented API does these; tests/site/test_upstream.py fails
when an upgrade changes one of them, so the fix starts and ends here.
"""

from django.core.cache import cache
from wagtail.models import Site


def raw_host(request) -> str:
    # What Wagtail's Site lookup matches on (the host before ALLOWED_HOSTS' checks).
    return request._get_raw_host()


def find_site_uncached(request) -> Site | None:
    # Site.find_for_request without its per-request memo: the query itself.
    return Site._find_for_request(request)


def give_wagtail_site(request, site: Site | None) -> None:
    # Site.find_for_request returns this attribute when it is set: no query.
    request._wagtail_site = site


def give_parent(page, parent) -> None:
    # Treebeard's MP_Node.get_parent returns this when set: no query.
    page._cached_parent_obj = parent


def decode_cached(value: bytes):
    # django-redis' own encoding of a stored value (ints raw, the rest pickled).
    return cache.client.decode(value)


def new_connection(client):
    """A connection of the client's kind, outside its pool (a thread keeps it)."""
    pool = client.connection_pool
    return pool.connection_class(**pool.connection_kwargs)


def pack(connection, *args) -> list[bytes]:
    return connection.pack_command(*args)


def send_and_read(connection, packed: list[bytes]):
    connection.send_packed_command(packed, check_health=False)
    return connection.read_response()
