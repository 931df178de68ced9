"""The index, feeds and sitemap: newest first, by tag, and never a draft."""

import xml.etree.ElementTree as ET
from datetime import date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.models import BlogIndexPage
from tests.factories import make_blog_index, make_image, make_post, translate

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def index():
    return make_blog_index()


def titles(response):
    return [post.title for post in response.context["posts"]]


def test_index_is_newest_first_and_paginated(client, index, monkeypatch):
    monkeypatch.setattr(BlogIndexPage, "page_size", 2)
    for days in (3, 1, 2):
        make_post(index, title=f"{days} days", date=date.today() - timedelta(days))

    assert titles(client.get("/blog/")) == ["1 days", "2 days"]
    assert titles(client.get("/blog/?page=2")) == ["3 days"]
    # Out of range is a 404, not page 2 again: each junk value would be cached.
    assert client.get("/blog/?page=99").status_code == 404


def test_later_pages_of_the_index_say_their_number(client, monkeypatch):
    # Page 2 had page 1's <title>: search engines saw the same page twice.
    index = make_blog_index(title="Блог")
    translate(index, title="Blog")
    monkeypatch.setattr(BlogIndexPage, "page_size", 1)
    for days in (1, 2):
        translate(make_post(index, date=date.today() - timedelta(days)))

    assert "<title>Блог · Vestnik</title>" in client.get("/blog/").content.decode()
    html = client.get("/blog/?page=2").content.decode()
    assert "<title>Блог — страница 2 · Vestnik</title>" in html
    assert '<link rel="canonical" href="http://testserver/blog/?page=2">' in html
    html = client.get("/en/blog/?page=2").content.decode()
    assert "<title>Blog — page 2 · Vestnik</title>" in html
    assert '<link rel="canonical" href="http://testserver/en/blog/?page=2">' in html


def test_index_filters_by_tag(client, index):
    make_post(index, title="Tagged", tags=["django"])
    make_post(index, title="Other", tags=["wagtail"])
    response = client.get("/blog/?tag=django")
    assert titles(response) == ["Tagged"]
    assert "django" in response.content.decode()


def test_a_tags_page_says_the_tags_name_in_its_title_and_heading(client, monkeypatch):
    """Every tag's page was titled "Блог · Vestnik" and named the tag by its slug."""
    monkeypatch.setattr(BlogIndexPage, "page_size", 1)
    index = make_blog_index(title="Блог")
    for _ in range(2):
        make_post(index, tags=["Email Tips"])

    html = client.get("/blog/?tag=email-tips").content.decode()
    assert "<title>Блог: записи с меткой «Email Tips» · Vestnik</title>" in html
    assert "Записи с меткой «Email Tips»." in html
    html = client.get("/blog/?tag=email-tips&page=2").content.decode()
    title = "Блог: записи с меткой «Email Tips», страница 2 · Vestnik"
    assert f"<title>{title}</title>" in html


@pytest.fixture
def hidden_posts(index):
    """Every way a post is not public: draft, unpublished, scheduled for later."""
    make_post(index, title="Public post", slug="public")
    make_post(index, title="Draft post", slug="draft", publish=False)
    make_post(index, title="Withdrawn post", slug="withdrawn").unpublish()
    later = make_post(index, title="Later post", slug="later", publish=False)
    later.go_live_at = timezone.now() + timedelta(days=1)
    later.save_revision().publish()  # a future go_live_at only schedules it
    return ["Draft post", "Withdrawn post", "Later post"]


@pytest.mark.smoke
@pytest.mark.parametrize(
    "path",
    ["/", "/blog/", "/feeds/blog.rss", "/feeds/blog.atom", "/sitemap-ru.xml"],
)
def test_unpublished_posts_are_never_listed(client, hidden_posts, path):
    body = client.get(path).content.decode()
    assert "Public post" in body or "/blog/public/" in body
    for title in hidden_posts:
        assert title not in body
    for slug in ("draft", "withdrawn", "later"):
        assert f"/blog/{slug}/" not in body
        assert client.get(f"/blog/{slug}/").status_code == 404


def test_rss_feed_is_valid_xml(client, index):
    make_post(index, title="First", slug="first")
    response = client.get("/feeds/blog.rss")
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    item = channel.find("item")
    assert item.findtext("title") == "First"
    assert item.findtext("link") == "http://testserver/blog/first/"
    assert channel.findtext("link") == "http://testserver/blog/"


def test_atom_feed_is_valid_xml_and_translated(client, index):
    first = make_post(index, title="Первый", slug="first")
    translate(index, title="Blog")
    translate(first, title="First")
    root = ET.fromstring(client.get("/en/feeds/blog.atom").content)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == "Vestnik blog"
    entry = root.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}link").get("href") == "http://testserver/en/blog/first/"
    assert len(root.findall(f"{ATOM}entry")) == 1  # the English post only
    assert entry.findtext(f"{ATOM}title") == "First"
    ru = ET.fromstring(client.get("/feeds/blog.atom").content)
    assert ru.findtext(f"{ATOM}title") == "Блог Vestnik"
    assert [e.findtext(f"{ATOM}title") for e in ru.findall(f"{ATOM}entry")] == [
        "Первый"
    ]


def test_feed_items_carry_the_date_they_are_ordered_by(client, index):
    """A backdated post (published today, dated last week) carried today as its
    pubDate below a post of yesterday: readers sort by that date."""
    today = timezone.localdate()
    make_post(index, title="Yesterday", date=today - timedelta(days=1))
    make_post(index, title="Backdated", date=today - timedelta(days=7))

    rss = ET.fromstring(client.get("/feeds/blog.rss").content).find("channel")
    items = rss.findall("item")
    assert [item.findtext("title") for item in items] == ["Yesterday", "Backdated"]
    dates = [parsedate_to_datetime(item.findtext("pubDate")) for item in items]
    zone = ZoneInfo(settings.TIME_ZONE)
    assert [moment.astimezone(zone).date() for moment in dates] == [
        today - timedelta(days=1),
        today - timedelta(days=7),
    ]
    atom = ET.fromstring(client.get("/feeds/blog.atom").content)
    for entry in atom.findall(f"{ATOM}entry"):
        published = datetime.fromisoformat(entry.findtext(f"{ATOM}published"))
        updated = datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
        assert published.astimezone(zone).time() == time.min
        assert updated >= published  # the publish, today
        assert updated.astimezone(zone).date() == today
    assert [
        datetime.fromisoformat(e.findtext(f"{ATOM}published")).astimezone(zone).date()
        for e in atom.findall(f"{ATOM}entry")
    ] == [today - timedelta(days=1), today - timedelta(days=7)]


def sitemap_locations(client, path: str) -> set[str]:
    root = ET.fromstring(client.get(path).content)
    return {entry.findtext(f"{SITEMAP}loc") for entry in root}


def test_sitemap_is_valid_xml_in_both_languages(client, index):
    first = make_post(index, slug="first")
    make_post(index, slug="untranslated")
    translate(index)
    translate(first)
    assert sitemap_locations(client, "/sitemap.xml") == {
        "http://testserver/sitemap-ru.xml",
        "http://testserver/sitemap-en.xml",
    }
    assert sitemap_locations(client, "/sitemap-ru.xml") == {
        "http://testserver/",
        "http://testserver/blog/",
        "http://testserver/blog/first/",
        "http://testserver/blog/untranslated/",
    }
    assert sitemap_locations(client, "/sitemap-en.xml") == {
        "http://testserver/en/",
        "http://testserver/en/blog/",
        "http://testserver/en/blog/first/",
    }


def index_queries(client, index, count: int) -> int:
    """Queries of one uncached render of `index` holding `count` posts with images."""
    from django.core.cache import cache

    images = [make_image(f"img {n}") for n in range(count)]
    for n in range(count):
        make_post(index, main_image=images[n], tags=["a", f"t{n}"])
    client.get(index.url)  # renditions are made on the first render
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(index.url)
    assert len(response.context["posts"]) == count
    assert response.content.decode().count("<picture>") == count
    return len(queries)


def test_index_renders_in_a_fixed_number_of_queries(client, monkeypatch):
    monkeypatch.setattr(BlogIndexPage, "page_size", 60)
    five = index_queries(client, make_blog_index(title="Small", slug="small"), 5)
    fifty = index_queries(client, make_blog_index(title="Large", slug="large"), 50)
    assert five == fifty
    # 15 before the languages: the active locale, the menu's and the switcher's
    # translations are read too (the switcher's kept until the pages change).
    # Without Redis (the embedded defaults) nothing is kept between requests and
    # Wagtail's "any private page?" read comes once more.
    assert fifty <= (17 if settings.REDIS_URL else 18)
