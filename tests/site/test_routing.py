"""DirectRouteMixin routes every path exactly as Wagtail's level-by-level walk does.

Each case asks both: the site root's own route (one query) and Wagtail's Page.route
called on the same root, and compares what they find; the HTTP cases check what a
visitor gets, cache primed first where a stale entry could answer.
"""

import pytest
from django.http import Http404
from django.test import RequestFactory
from wagtail.models import Page, PageViewRestriction

from home.page_cache import HEADER
from tests.factories import home_page, make_blog_index, make_post, translate

pytestmark = pytest.mark.django_db


def routed(root, path: str, walk: bool):
    """(page id, args) that `path` routes to from `root`, or 404."""
    request = RequestFactory().get("/" + path)
    components = [part for part in path.split("/") if part]
    route = Page.route if walk else type(root).route
    try:
        page, args, kwargs = route(root, request, components)
    except Http404:
        return 404
    kwargs = dict(kwargs)
    # DirectRouteMixin hands over the parent and its address
    parent, parent_url = kwargs.pop("parent", None), kwargs.pop("parent_url", None)
    if parent is not None:
        assert parent.pk == page.get_parent().pk
        assert parent_url == page.get_parent().get_url(request)
    return page.pk, tuple(args), kwargs


def assert_routes_like_wagtail(path: str):
    root = home_page()
    assert routed(root, path, walk=False) == routed(root, path, walk=True), path


@pytest.fixture
def tree():
    index = make_blog_index()
    live = make_post(index, slug="live")
    make_post(index, slug="новости", title="Unicode slug")
    draft = make_post(index, slug="draft", publish=False)
    hidden_index = make_blog_index(title="Hidden", slug="hidden")
    under_draft = make_post(hidden_index, slug="under-draft")
    hidden_index.unpublish()
    return {"index": index, "live": live, "draft": draft, "under": under_draft}


@pytest.mark.parametrize(
    "path",
    [
        "",
        "blog/",
        "blog/live/",
        "blog/draft/",  # a draft final page: 404
        "hidden/",  # a draft intermediate page itself: 404
        "hidden/under-draft/",  # Wagtail serves a live page under a draft one
        "blog/live/extra/",
        "blog/missing/",
        "missing/live/",
        "blog//live/",
        "blog/новости/",
        "blog/НОВОСТИ/",
        "blog/Live/",
    ],
)
def test_paths_route_as_wagtail_walks_them(tree, path):
    assert_routes_like_wagtail(path)


def test_a_unicode_slug_is_served(client, tree):
    response = client.get("/blog/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/")
    assert response.status_code == 200
    assert "Unicode slug" in response.content.decode()


def test_a_live_page_under_a_draft_parent_is_served(client, tree):
    assert client.get("/hidden/under-draft/").status_code == 200
    assert client.get("/hidden/").status_code == 404
    assert client.get("/blog/draft/").status_code == 404


def test_a_page_with_its_own_route_gets_the_rest_of_the_path(tree, monkeypatch):
    from blog.models import BlogIndexPage

    def route(self, request, path_components):
        # Like RoutablePageMixin: a sub-route of the index, not a child slug.
        if path_components == ["tag", "news"]:
            return self, ("news",), {}
        return Page.route(self, request, path_components)

    monkeypatch.setattr(BlogIndexPage, "route", route)
    for path in ("blog/tag/news/", "blog/live/", "blog/tag/"):
        assert_routes_like_wagtail(path)
    assert routed(home_page(), "blog/tag/news/", walk=False)[1] == ("news",)


def test_an_alias_is_served_at_its_own_path(client, tree):
    alias = tree["live"].create_alias(update_slug="alias-of-live")
    assert_routes_like_wagtail("blog/alias-of-live/")
    response = client.get("/blog/alias-of-live/")
    assert response.status_code == 200
    assert tree["live"].title in response.content.decode()
    assert alias.alias_of_id == tree["live"].pk


def test_a_renamed_page_redirects_from_its_old_path(
    client, tree, django_capture_on_commit_callbacks
):
    live = tree["live"]
    assert client.get("/blog/live/").status_code == 200
    assert client.get("/blog/live/")[HEADER] == "hit"

    live.slug = "renamed"
    # Wagtail announces a slug change on commit; its redirect is made then.
    with django_capture_on_commit_callbacks(execute=True):
        live.save_revision().publish()

    assert_routes_like_wagtail("blog/live/")
    assert_routes_like_wagtail("blog/renamed/")
    old = client.get("/blog/live/")
    assert old.status_code == 301  # wagtail.contrib.redirects made one
    assert old["Location"].endswith("/blog/renamed/")
    assert client.get("/blog/renamed/").status_code == 200


def test_a_moved_subtree_answers_at_its_new_paths(client, tree):
    assert client.get("/blog/live/")[HEADER] == "miss"
    other = make_blog_index(title="Other", slug="other")
    tree["live"].move(other, pos="last-child")

    assert_routes_like_wagtail("other/live/")
    assert client.get("/other/live/").status_code == 200
    assert client.get("/blog/live/").status_code in (301, 404)
    assert client.get("/blog/live/").get(HEADER) != "hit"


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_language_prefix_and_missing_slash(client, tree, prefix):
    translate(tree["live"], copy_parents=True)
    assert client.get(f"{prefix}/blog/live/").status_code == 200
    no_slash = client.get(f"{prefix}/blog/live")
    assert no_slash.status_code == 301
    assert no_slash["Location"] == f"{prefix}/blog/live/"


@pytest.mark.parametrize("restriction_type", ["password", "login"])
def test_a_page_under_a_private_parent_is_protected(client, tree, restriction_type):
    assert client.get("/blog/live/")[HEADER] == "miss"
    assert client.get("/blog/live/")[HEADER] == "hit"

    PageViewRestriction.objects.create(
        page=tree["index"], restriction_type=restriction_type, password="s3cret"
    )

    for _ in range(2):
        response = client.get("/blog/live/")
        assert response.get(HEADER) != "hit"
        if restriction_type == "login":
            assert response.status_code == 302
        else:
            assert "s3cret" not in response.content.decode()
            assert tree["live"].intro not in response.content.decode()
