"""The page tree, the home page and what every page tells search engines."""

import pytest
from django.template.loader import render_to_string
from django.utils.translation import override
from wagtail.models import Page, Site
from wagtail.test.utils import WagtailPageTestCase

from blog.models import BlogIndexPage, BlogPage
from home.models import HomePage
from tests.factories import (
    home_page,
    make_blog_index,
    make_client,
    make_mailing,
    make_post,
    make_user,
    translate,
)


class PageTreeTests(WagtailPageTestCase):
    def test_home_page_replaced_the_welcome_page_as_site_root(self):
        home = home_page()
        self.assertEqual(Site.objects.get(is_default_site=True).root_page_id, home.pk)
        # Beside it, only its English translation (home.migrations.0004_i18n).
        others = Page.objects.filter(depth=2).exclude(pk=home.pk)
        self.assertEqual([page.pk for page in others], [home_page("en").pk])
        self.assertEqual(home_page("en").translation_key, home.translation_key)
        self.assertEqual(Page.get_first_root_node().numchild, 2)

    def test_allowed_structure(self):
        self.assertAllowedParentPageTypes(HomePage, {Page})
        self.assertAllowedSubpageTypes(BlogIndexPage, {BlogPage})
        self.assertAllowedParentPageTypes(BlogPage, {BlogIndexPage})
        self.assertCanNotCreateAt(HomePage, BlogPage)
        self.assertCanCreateAt(HomePage, BlogIndexPage)

    def test_pages_render_in_both_languages(self):
        index = make_blog_index()
        post = make_post(index, title="Первый пост")
        translate(index, title="Blog")
        translate(post, title="First post")
        for page in (home_page(), index, post):
            self.assertPageIsRenderable(page)
            self.assertPageIsRoutable(page)
        self.assertPageIsRenderable(home_page("en"))
        self.assertContains(self.client.get("/en/"), 'lang="en"')
        # Each language lists its own tree's posts.
        response = self.client.get("/en/blog/")
        self.assertContains(response, "First post")
        self.assertNotContains(response, "Первый пост")
        self.assertContains(response, 'lang="en"')
        self.assertContains(self.client.get("/blog/"), "Первый пост")


@pytest.mark.smoke
@pytest.mark.django_db
def test_home_shows_live_figures_and_posts(client):
    owner = make_user()
    clients = [make_client(owner), make_client(owner, email="Same@Example.org")]
    make_mailing(owner, clients=clients)
    make_mailing(owner, clients=clients, status="running")
    index = make_blog_index()
    make_post(index, title="Visible post")
    make_post(index, title="Draft post", publish=False)

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["figures"] == {
        "mailings_total": 2,
        "mailings_running": 1,
        "unique_clients": 2,
    }
    assert 'data-figure="mailings_total">2<' in html
    assert "Visible post" in html
    assert "Draft post" not in html
    assert 'href="/accounts/signup/"' in html
    assert 'href="/en/accounts/signup/"' in client.get("/en/").content.decode()


@pytest.mark.django_db
def test_home_shows_three_random_posts_at_most(client):
    index = make_blog_index()
    for _ in range(5):
        make_post(index)
    assert len(client.get("/").context["posts"]) == 3


@pytest.mark.smoke
@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/en/", "/blog/", "/blog/a-post/"])
def test_every_page_has_canonical_and_open_graph(client, path):
    index = make_blog_index()
    make_post(index, slug="a-post", intro="About things")

    html = client.get(path).content.decode()

    canonical = f"http://testserver{path}"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert f'<meta property="og:url" content="{canonical}">' in html
    assert '<meta property="og:title"' in html
    assert 'hreflang="en"' in html and 'hreflang="ru"' in html


@pytest.mark.django_db
def test_post_has_responsive_modern_image(client):
    from tests.factories import make_image

    index = make_blog_index()
    make_post(index, slug="pic", main_image=make_image(size=(1600, 900)))

    html = client.get("/blog/pic/").content.decode()

    assert 'type="image/avif"' in html and 'type="image/webp"' in html
    assert "fill-1600x900.format-webp.webp 1600w" in html
    assert '<meta property="og:image" content="http://testserver/media/' in html


@pytest.mark.smoke
@pytest.mark.django_db
def test_robots_txt_points_to_sitemap(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain"
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()
    assert "Disallow: /admin/" in response.content.decode()


@pytest.mark.django_db
def test_404_in_the_site_look(client):
    response = client.get("/en/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "navbar" in html and "Page not found" in html
    assert "Страница не найдена" in client.get("/no-such-page/").content.decode()


def test_500_renders_without_a_request():
    html = render_to_string("500.html")
    assert "500" in html and "bootstrap" in html


@pytest.mark.parametrize(
    ("language", "home", "words"),
    [("ru", "/", "У нас что-то сломалось"), ("en", "/en/", "Something went wrong")],
)
def test_500_speaks_the_language_of_its_address(language, home, words):
    """On /en/ it said lang="ru" over English words and led to the Russian home."""
    with override(language):
        html = render_to_string("500.html")
    assert f'<html lang="{language}">' in html
    assert html.count(f'href="{home}">') == 2  # the brand and the button
    assert words in html


@pytest.mark.django_db
def test_navbar_links_to_the_blog(client):
    translate(make_blog_index(title="Блог"), title="Blog")
    html = client.get("/en/blog/").content.decode()
    assert (
        '<a class="nav-link active" aria-current="page" href="/en/blog/">Blog</a>'
        in html
    )
    assert 'href="/blog/">Блог</a>' in client.get("/").content.decode()


@pytest.mark.django_db
def test_favicon_is_served_and_linked(client):
    # Browsers ask for /favicon.ico whatever the page links: a 404 filled their logs.
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.ico"
    home_page()
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.ico">' in html
