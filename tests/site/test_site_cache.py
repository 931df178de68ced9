"""The request's Site comes from the cache (home.sites): a change of the sites must
take effect on the next request, as with Wagtail's own lookup."""

import pytest
from django.test import RequestFactory
from wagtail.models import Site

from home.sites import find_site
from tests.factories import home_page, make_blog_index, make_post

pytestmark = pytest.mark.django_db

OTHER = "127.0.0.1"  # in the test settings' ALLOWED_HOSTS, not a Site yet


def get(client, host: str, path: str = "/"):
    return client.get(path, headers={"host": host})


def fresh_request(host: str):
    return RequestFactory().get("/", headers={"host": host})


def assert_same_site_as_wagtail(host: str) -> None:
    request = fresh_request(host)
    assert find_site(request) == Site.find_for_request(fresh_request(host)), host


@pytest.fixture
def blog():
    index = make_blog_index(title="Blog index", intro="Index of the second site")
    make_post(index, slug="first", title="First post")
    return index


def test_a_second_site_is_served_at_once(client, blog):
    assert "Index of the second site" not in get(client, OTHER).content.decode()
    assert_same_site_as_wagtail(OTHER)

    Site.objects.create(hostname=OTHER, port=80, root_page=blog)

    assert_same_site_as_wagtail(OTHER)
    assert "Index of the second site" in get(client, OTHER).content.decode()
    assert get(client, OTHER, "/first/").status_code == 200
    assert get(client, "testserver", "/blog/first/").status_code == 200


def test_a_changed_hostname_takes_effect_at_once(client, blog):
    site = Site.objects.create(hostname=OTHER, port=80, root_page=blog)
    assert get(client, OTHER, "/first/").status_code == 200

    site.hostname = "elsewhere.example"
    site.save()

    assert_same_site_as_wagtail(OTHER)
    assert get(client, OTHER, "/first/").status_code == 404  # the default site now
    assert get(client, OTHER, "/blog/first/").status_code == 200


def test_a_changed_root_page_takes_effect_at_once(client, blog):
    assert "Index of the second site" not in get(client, "testserver").content.decode()

    site = Site.objects.get(is_default_site=True)
    site.root_page = blog
    site.save()

    assert_same_site_as_wagtail("testserver")
    assert "Index of the second site" in get(client, "testserver").content.decode()
    assert get(client, "testserver", "/first/").status_code == 200

    site.root_page = home_page()
    site.save()
    assert get(client, "testserver", "/blog/first/").status_code == 200


def test_a_deleted_site_is_forgotten_at_once(client, blog):
    site = Site.objects.create(hostname=OTHER, port=80, root_page=blog)
    assert get(client, OTHER, "/first/").status_code == 200
    site.delete()
    assert_same_site_as_wagtail(OTHER)
    assert get(client, OTHER, "/first/").status_code == 404


def test_the_root_page_published_anew_is_what_routes(client, blog):
    home = home_page()
    get(client, "testserver")
    home.hero_title = "A new hero"
    home.save_revision().publish()
    assert "A new hero" in get(client, "testserver").content.decode()


def test_sites_on_one_hostname_and_two_ports_keep_their_own_pages(client, blog):
    # A proxy may pass the Host without the port: Wagtail then matches the Site by
    # the port the request came in on.
    Site.objects.create(hostname="testserver", port=80, root_page=home_page())
    Site.objects.create(hostname="testserver", port=8080, root_page=blog)

    for _ in range(2):
        on_80 = get(client, "testserver", "/").content.decode()
        on_8080 = client.get("/", SERVER_PORT="8080", headers={"host": "testserver"})
        on_8080 = on_8080.content.decode()
        assert "Index of the second site" not in on_80
        assert "Index of the second site" in on_8080


@pytest.mark.redis
def test_a_kept_site_is_read_again_when_redis_loses_the_generation():
    from django.core.cache import cache

    from home import page_store

    if not page_store.available():
        pytest.skip("needs REDIS_URL: without Redis no Site is kept")
    kept = find_site(fresh_request("localhost"))
    assert find_site(fresh_request("localhost")) is kept  # kept, not unpickled
    cache.clear()  # a Redis restart or flush: the generation is gone
    again = find_site(fresh_request("localhost"))
    assert again is not kept and again == kept
    assert find_site(fresh_request("localhost")) is again
