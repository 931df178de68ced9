"""home.upstream leans on internals of Wagtail, treebeard, Django, django-redis and
redis-py: each test here fails when an upgrade changes what it leans on."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from wagtail.models import Site

from home import upstream
from tests.factories import home_page, make_blog_index

pytestmark = pytest.mark.django_db


def test_wagtail_takes_the_site_it_is_given_without_a_query():
    request = RequestFactory().get("/", HTTP_HOST="localhost")
    site = upstream.find_site_uncached(request)
    assert site == Site.objects.get(is_default_site=True)
    assert upstream.raw_host(request) == "localhost"

    given = Site(pk=site.pk, hostname="given", root_page=site.root_page)
    upstream.give_wagtail_site(request, given)
    with CaptureQueriesContext(connection) as queries:
        assert Site.find_for_request(request) is given
    assert len(queries) == 0


def test_treebeard_takes_the_parent_it_is_given_without_a_query():
    index = make_blog_index()
    parent = home_page()
    upstream.give_parent(index, parent)
    with CaptureQueriesContext(connection) as queries:
        assert index.get_parent() is parent
    assert len(queries) == 0


@pytest.mark.redis
def test_django_redis_decodes_what_it_stored():
    from blog.services import redis_client

    client = redis_client()
    if client is None:
        pytest.skip("needs REDIS_URL: django-redis is not the cache")
    from django.core.cache import cache

    cache.set("upstream-probe", {"a": 1})
    cache.set("upstream-int", 7)
    raw = client.mget(cache.make_key("upstream-probe"), cache.make_key("upstream-int"))
    assert [upstream.decode_cached(value) for value in raw] == [{"a": 1}, 7]


@pytest.mark.redis
def test_redis_py_sends_a_packed_command_on_a_connection_of_its_own():
    from blog.services import redis_client

    client = redis_client()
    if client is None:
        pytest.skip("needs REDIS_URL: no Redis client")
    connection = upstream.new_connection(client)
    try:
        packed = upstream.pack(connection, "ECHO", "upstream")
        assert upstream.send_and_read(connection, packed) == b"upstream"
        assert upstream.send_and_read(connection, packed) == b"upstream"
    finally:
        connection.disconnect()
