"""Wagtail's public pages API answers a junk paging or search parameter with a 400
or an empty page, never a 500 (found from outside)."""

import pytest

from tests.factories import make_blog_index, make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def post():
    return make_post(make_blog_index(), slug="api-post", title="API post")


def test_an_offset_past_the_databases_integers_is_an_empty_page(client, post):
    response = client.get("/api/v2/pages/?offset=99999999999999999999")

    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["meta"]["total_count"] >= 1


def test_an_unknown_search_operator_is_a_400_that_names_it(client, post):
    response = client.get("/api/v2/pages/?search=post&search_operator=zz")

    assert response.status_code == 400
    assert "search_operator" in response.json()["message"]


@pytest.mark.parametrize("operator", ["and", "or"])
def test_the_two_search_operators_still_search(client, post, operator):
    response = client.get(f"/api/v2/pages/?search=post&search_operator={operator}")

    assert response.status_code == 200
