"""The post's fragment caches (meta tags, article) hold what a render would show:
a change elsewhere in the tree that Wagtail would show at once shows at once."""

import pytest
from django.test import Client
from wagtail.rich_text import RichText

from home.page_cache import HEADER
from tests.factories import make_blog_index, make_post, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    """A visitor with a session: the page cache never answers, the fragments do."""
    browser = Client()
    browser.force_login(make_user("editor"))
    return browser


def linking_post(index, target):
    link = f'<p>See <a linktype="page" id="{target.pk}">the other post</a></p>'
    return make_post(index, slug="linking", body=[("paragraph", RichText(link))])


@pytest.mark.parametrize("visitor", ["anonymous", "editor"])
def test_a_link_to_a_renamed_page_follows_it_at_once(
    editor, visitor, django_capture_on_commit_callbacks
):
    browser = editor if visitor == "editor" else Client()
    index = make_blog_index()
    target = make_post(index, slug="target")
    linking_post(index, target)
    assert 'href="/blog/target/"' in browser.get("/blog/linking/").content.decode()

    target.slug = "moved-on"
    # Wagtail announces a new slug once it is committed (page_slug_changed).
    with django_capture_on_commit_callbacks(execute=True):
        target.save_revision().publish()

    response = browser.get("/blog/linking/")
    assert response.get(HEADER) != "hit"
    assert 'href="/blog/moved-on/"' in response.content.decode()


def test_a_link_to_a_deleted_page_goes_at_once(editor):
    index = make_blog_index()
    target = make_post(index, slug="target")
    linking_post(index, target)
    assert 'href="/blog/target/"' in editor.get("/blog/linking/").content.decode()

    target.delete()

    assert 'href="/blog/target/"' not in editor.get("/blog/linking/").content.decode()


def test_an_alias_shows_the_original_as_just_published(editor):
    index = make_blog_index()
    original = make_post(index, slug="original", intro="First words")
    original.create_alias(update_slug="alias")
    for browser in (editor, Client()):
        assert "First words" in browser.get("/blog/alias/").content.decode()

    original.intro = "Second words"
    original.save_revision().publish()

    for browser in (editor, Client()):
        page = browser.get("/blog/alias/").content.decode()
        assert "Second words" in page and "First words" not in page


def test_a_post_in_two_sites_links_within_each(editor):
    from wagtail.models import Site

    index = make_blog_index(title="Blog index")
    make_post(index, slug="shared", tags=["news"])
    Site.objects.create(hostname="127.0.0.1", port=80, root_page=index)

    for browser in (editor, Client(), editor, Client()):
        main = browser.get("/blog/shared/").content.decode()
        second = browser.get("/shared/", headers={"host": "127.0.0.1"})
        second = second.content.decode()
        assert 'href="/blog/?tag=news"' in main
        assert 'href="/blog/?tag=news"' not in second
        assert 'href="/?tag=news"' in second


def fragment_keys() -> list:
    from home import page_store

    # Django's {% cache %} keys: "template.cache.<fragment name>.<hash>".
    return page_store.client().keys("*template.cache.post_*")


@pytest.mark.redis
def test_an_anonymous_miss_stored_whole_caches_no_fragments(editor):
    # The page is kept whole: its fragments would be a read and a write each of
    # what no anonymous visitor reads (a change or the minute drops them together).
    post = make_post(make_blog_index(), slug="whole", title="Kept whole")
    response = Client().get(post.url)
    assert response[HEADER] == "miss" and "Kept whole" in response.content.decode()
    assert fragment_keys() == []

    # A visitor the page cache cannot answer still renders from fragments.
    assert "Kept whole" in editor.get(post.url).content.decode()
    assert len(fragment_keys()) == 2
    assert Client().get(post.url)[HEADER] == "hit"
