"""The site menu speaks the page's language, and a page outside the language
prefixes (the unsubscribe page, in the visitor's language) never leaves its menu
for the pages of another language to show."""

import pytest

from mailing.unsubscribe import make_token
from tests.factories import make_blog_index, make_client, make_user, translate

pytestmark = pytest.mark.django_db


@pytest.fixture
def unsubscribe_path():
    translate(make_blog_index(title="Блог"), "en", title="Blog")
    return f"/unsubscribe/{make_token(make_client(make_user()).pk)}/"


def test_an_english_unsubscribe_page_has_the_english_menu(client, unsubscribe_path):
    english = client.get(unsubscribe_path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Blog</a>" in english and ">Блог</a>" not in english


@pytest.mark.redis
def test_it_leaves_the_russian_pages_their_russian_menu(client, unsubscribe_path):
    client.get(unsubscribe_path, HTTP_ACCEPT_LANGUAGE="en")
    russian = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Блог</a>" in russian and ">Blog</a>" not in russian
