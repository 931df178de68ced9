"""Each language's own pages (Wagtail i18n): the switcher and hreflang lead to the
page's translation, or to the other language's home where there is none."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from blog.models import BlogPage
from tests.factories import home_page, make_blog_index, make_post, translate

pytestmark = pytest.mark.django_db

SWITCH = re.compile(r'<a href="([^"]*)" hreflang="(\w+)" lang="\w+"')
HREFLANG = re.compile(r'<link rel="alternate" hreflang="(\w+)" href="([^"]*)">')


@pytest.fixture
def posts():
    index = make_blog_index(title="Блог")
    translated = make_post(index, slug="perevod", title="Переведённый пост")
    alone = make_post(index, slug="tolko-russkiy", title="Только русский")
    translate(index, title="Blog")
    translate(translated, slug="translated", title="Translated post")
    return translated, alone


def links(client, path: str) -> tuple[dict, dict]:
    html = client.get(path).content.decode()
    return (
        {code: unescape(url) for url, code in SWITCH.findall(html)},
        {code: unescape(url) for code, url in HREFLANG.findall(html)},
    )


def test_a_translated_post_links_to_its_translation_both_ways(client, posts):
    switch, hreflang = links(client, "/blog/perevod/")
    assert switch == {"ru": "/blog/perevod/", "en": "/en/blog/translated/"}
    assert hreflang == {
        "ru": "http://testserver/blog/perevod/",
        "en": "http://testserver/en/blog/translated/",
    }
    switch, _ = links(client, "/en/blog/translated/")
    assert switch == {"ru": "/blog/perevod/", "en": "/en/blog/translated/"}
    response = client.get("/en/blog/translated/")
    assert "Translated post" in response.content.decode()
    assert "Переведённый" not in response.content.decode()


def test_an_untranslated_post_switches_to_the_other_home_without_hreflang(
    client, posts
):
    switch, hreflang = links(client, "/blog/tolko-russkiy/")
    assert switch["en"] == "/en/"
    assert set(hreflang) == {"ru"}  # no alternate that is not a translation
    assert client.get("/en/blog/tolko-russkiy/").status_code == 404


def test_each_home_lists_its_own_posts(client, posts):
    english = client.get("/en/").content.decode()
    assert "Translated post" in english and "Только русский" not in english
    assert "Только русский" in client.get("/").content.decode()
    assert home_page("en").translation_key == home_page().translation_key


def test_pages_that_are_not_pages_keep_their_address_per_language(client):
    switch, _ = links(client, "/accounts/login/?next=/admin/")
    assert switch == {
        "ru": "/accounts/login/?next=/admin/",
        "en": "/en/accounts/login/?next=/admin/",
    }


def test_a_view_with_one_address_for_every_language_has_no_switcher(client):
    """Unsubscribe, subscribe and web-version pages are outside the language
    prefixes: RU and EN both led back to the same address."""
    from mailing.unsubscribe import make_token, unsubscribe_url
    from tests.factories import make_client, make_user

    reader = make_client(make_user(), email="reader@example.org")
    path = unsubscribe_url(make_token(reader.pk)).removeprefix("http://testserver")
    response = client.get(path)
    assert response.status_code == 200
    assert links(client, path) == ({}, {})


@pytest.mark.redis
def test_a_publish_drops_its_own_languages_pages_and_the_others_list(client):
    index = make_blog_index(title="Блог")
    alone = make_post(index, slug="tolko-russkiy", title="Только русский")
    translate(index, title="Blog")
    paths = ["/", "/blog/", "/blog/tolko-russkiy/", "/en/", "/en/blog/"]
    for path in paths:
        client.get(path)
        assert client.get(path)["X-Page-Cache"] == "hit", path

    alone.title = "Изменённый"
    alone.save_revision().publish()  # no translation: the Russian tree only

    states = {path: client.get(path)["X-Page-Cache"] for path in paths}
    # The English list too: its switcher leads to the Russian list's tags and
    # page numbers where they are (BlogIndexPage.query_in), which a post changes.
    assert states == {
        "/": "miss",
        "/blog/": "miss",
        "/blog/tolko-russkiy/": "miss",
        "/en/": "hit",
        "/en/blog/": "miss",
    }


@pytest.mark.redis
def test_a_first_translation_drops_the_other_languages_switchers(client):
    index = make_blog_index(title="Блог")
    post = make_post(index, slug="perevod", title="Переведённый пост")
    translate(index, title="Blog")
    assert links(client, "/blog/perevod/")[0]["en"] == "/en/"  # cached now

    translate(post, slug="translated", title="Translated post")

    assert links(client, "/blog/perevod/")[0]["en"] == "/en/blog/translated/"


@pytest.mark.redis
def test_a_posts_own_publish_keeps_its_switcher_a_translations_unpublish_not(
    client, posts
):
    """The switcher names a post's translations: the post's own publish leaves them
    as they were (not read again), its translation's unpublish does not."""
    translated, _alone = posts
    assert links(client, "/blog/perevod/")[0]["en"] == "/en/blog/translated/"

    translated.title = "Переведённый пост, правка"
    translated.save_revision().publish()
    with CaptureQueriesContext(connection) as queries:
        switch, hreflang = links(client, "/blog/perevod/")
    assert switch["en"] == "/en/blog/translated/" and set(hreflang) == {"ru", "en"}
    wheres = [q["sql"].split("WHERE")[-1] for q in queries]
    assert not [where for where in wheres if "translation_key" in where]

    translated.get_translation(home_page("en").locale).unpublish()

    switch, hreflang = links(client, "/blog/perevod/")
    assert switch["en"] == "/en/" and set(hreflang) == {"ru"}


def test_counts_are_grouped_as_each_language_writes_them(client, posts, monkeypatch):
    # 1234567 read the same in both languages: each writes it its own way.
    figures = {
        "mailings_total": 12345,
        "mailings_running": 0,
        "unique_clients": 1234567,
    }
    monkeypatch.setattr("home.services.service_figures", lambda: figures)
    translated, _alone = posts
    BlogPage.objects.filter(translation_key=translated.translation_key).update(
        view_count=12345
    )

    russian = client.get("/").content.decode()
    english = client.get("/en/").content.decode()

    assert 'data-figure="unique_clients">1\xa0234\xa0567<' in russian
    assert 'data-figure="unique_clients">1,234,567<' in english
    assert "12\xa0345 просмотров" in client.get("/blog/perevod/").content.decode()
    assert "12,345 views" in client.get("/en/blog/translated/").content.decode()


@pytest.fixture
def lists(monkeypatch):
    """Three Russian posts, two of them translated; one post a page."""
    from blog.models import BlogIndexPage

    monkeypatch.setattr(BlogIndexPage, "page_size", 1)
    index = make_blog_index(title="Блог")
    news = make_post(index, slug="novost", title="Новость", tags=["news"])
    tip = make_post(index, slug="sovet", title="Совет", tags=["tips"])
    make_post(index, slug="tolko-russkiy", title="Только русский", tags=["tips"])
    translate(index, title="Blog")
    translate(news, slug="news", title="News")
    translate(tip, slug="tip", title="Tip")
    return index


@pytest.mark.parametrize(
    ("path", "russian", "english"),
    [
        ("/blog/?page=2", "/blog/?page=2", "/en/blog/?page=2"),
        ("/en/blog/?page=2", "/blog/?page=2", "/en/blog/?page=2"),
        ("/blog/?tag=news", "/blog/?tag=news", "/en/blog/?tag=news"),
        ("/blog/?tag=tips&page=2", "/blog/?page=2&tag=tips", "/en/blog/"),
        ("/blog/?page=3", "/blog/?page=3", "/en/blog/"),
        ("/en/blog/?tag=tips", "/blog/?tag=tips", "/en/blog/?tag=tips"),
        ("/blog/", "/blog/", "/en/blog/"),
    ],
)
def test_a_lists_switcher_keeps_its_tag_and_page_where_the_other_has_them(
    client, lists, path, russian, english
):
    """It led from page 2 or a tag to the other language's first page of posts."""
    switch, _hreflang = links(client, path)

    assert switch == {"ru": russian, "en": english}
    for url in switch.values():
        assert client.get(url).status_code == 200, url


def test_a_lists_hreflang_names_the_same_page_only_where_it_is_there(client, lists):
    _switch, hreflang = links(client, "/blog/?page=2")
    assert hreflang == {
        "ru": "http://testserver/blog/?page=2",
        "en": "http://testserver/en/blog/?page=2",
    }
    _switch, hreflang = links(client, "/blog/?page=3")
    assert hreflang == {"ru": "http://testserver/blog/?page=3"}


@pytest.mark.redis
def test_a_publish_in_one_language_moves_the_other_lists_switcher(client, lists):
    """A cached list (and its kept navbar) named the other language's pages as they
    were: a third English post makes a third English page."""
    assert links(client, "/blog/?page=3")[0]["en"] == "/en/blog/"
    alone = BlogPage.objects.get(slug="tolko-russkiy")

    translate(alone, slug="russian-only", title="Russian only")

    assert links(client, "/blog/?page=3")[0]["en"] == "/en/blog/?page=3"
    BlogPage.objects.get(slug="russian-only").unpublish()
    assert links(client, "/blog/?page=3")[0]["en"] == "/en/blog/"
