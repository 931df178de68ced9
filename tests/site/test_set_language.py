"""Django's language form (/i18n/setlang/) as an outsider posts it: any spelling of
a language we serve reaches that language's page, anything else changes nothing."""

import pytest
from django.conf import settings

from tests.factories import make_blog_index, make_post, translate

pytestmark = pytest.mark.django_db


@pytest.fixture
def posts():
    index = make_blog_index(title="Блог")
    make_post(index, slug="perevod", title="Переведённый пост")
    make_post(index, slug="tolko-russkiy", title="Только русский")
    translate(index, title="Blog")
    translate(index.get_children().get(slug="perevod"), slug="translated")


def switch(client, language, next_url):
    response = client.post("/i18n/setlang/", {"language": language, "next": next_url})
    cookie = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    return response.status_code, response["Location"], cookie and cookie.value


@pytest.mark.parametrize("language", ["en", "en-us", "EN", "en_US", "en-GB"])
def test_any_spelling_of_english_lands_on_the_english_page(client, posts, language):
    assert switch(client, language, "/blog/") == (302, "/en/blog/", "en")
    assert client.get("/en/blog/").status_code == 200


@pytest.mark.parametrize("language", ["ru", "ru-RU", "RU", "ru_ru"])
def test_any_spelling_of_russian_lands_on_the_russian_page(client, posts, language):
    assert switch(client, language, "/en/accounts/login/?next=/admin/") == (
        302,
        "/accounts/login/?next=/admin/",
        "ru",
    )


@pytest.mark.parametrize("language", ["de", "xx", "zz-en", "", "e" * 600])
def test_a_language_we_do_not_serve_keeps_the_current_one(client, posts, language):
    status, location, cookie = switch(client, language, "/en/blog/")
    assert (status, location, cookie) == (302, "/en/blog/", None)
    assert client.get(location).status_code == 200


def test_a_post_lands_on_its_translation_or_the_other_home(client, posts):
    assert switch(client, "en-us", "/blog/perevod/")[1] == "/en/blog/translated/"
    assert switch(client, "ru", "/en/blog/translated/")[1] == "/blog/perevod/"
    assert switch(client, "en", "/blog/tolko-russkiy/")[1] == "/en/"


def test_the_switch_reads_the_next_address_in_its_own_language(client, posts):
    """With an English cookie, the Russian /blog/ is still the Russian blog."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert switch(client, "en", "/blog/")[1] == "/en/blog/"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    assert switch(client, "ru", "/en/blog/")[1] == "/blog/"
