"""The browser tab names the page, then the product, and the product once."""

import re

import pytest

from tests.factories import make_blog_index

pytestmark = pytest.mark.django_db


def title_of(client, path: str) -> str:
    html = client.get(path).content.decode()
    return re.search(r"<title>(.*?)</title>", html).group(1)


def test_the_home_page_names_the_product_once(client):
    assert title_of(client, "/") == "Vestnik"


def test_other_pages_name_themselves_first(client):
    make_blog_index(title="Блог")
    assert title_of(client, "/blog/") == "Блог · Vestnik"
