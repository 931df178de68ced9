"""Unsubscribing from an email: asked on GET, done on POST, one-click too."""

import json

import pytest
from django.core import signing
from django.test import Client as Browser

from mailing.models import Client
from mailing.unsubscribe import make_token, unsubscribe_url
from tests.factories import make_client, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_row():
    return make_client(make_user(), email="reader@example.org")


def path_for(client_row) -> str:
    return unsubscribe_url(make_token(client_row.pk)).removeprefix("http://testserver")


def is_unsubscribed(client_row) -> bool:
    return Client.objects.get(pk=client_row.pk).unsubscribed_at is not None


@pytest.mark.smoke
def test_get_asks_and_never_unsubscribes(client_row):
    response = Browser().get(path_for(client_row))

    assert response.status_code == 200
    assert "reader@example.org" in response.content.decode()
    assert b'method="post"' in response.content
    assert not is_unsubscribed(client_row)


def test_the_page_speaks_both_languages(client_row):
    russian = Browser().get(path_for(client_row), HTTP_ACCEPT_LANGUAGE="ru")
    english = Browser().get(path_for(client_row), HTTP_ACCEPT_LANGUAGE="en")

    assert "Отписаться" in russian.content.decode()
    assert "Unsubscribe" in english.content.decode()


@pytest.mark.smoke
def test_post_from_the_page_unsubscribes_without_a_csrf_token(client_row):
    browser = Browser(enforce_csrf_checks=True)
    response = browser.post(path_for(client_row))

    assert response.status_code == 200
    assert is_unsubscribed(client_row)


def test_rfc8058_one_click_post_unsubscribes(client_row):
    response = Browser(enforce_csrf_checks=True).post(
        path_for(client_row),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert is_unsubscribed(client_row)


def test_unsubscribing_twice_keeps_the_first_time(client_row):
    Browser().post(path_for(client_row))
    first = Client.objects.get(pk=client_row.pk).unsubscribed_at
    Browser().post(path_for(client_row))

    assert Client.objects.get(pk=client_row.pk).unsubscribed_at == first


def test_a_tampered_token_is_refused(client_row):
    token = make_token(client_row.pk)
    # Another client's id with this token's signature.
    _, signature = token.split(":", 1)
    other_id = signing.b64_encode(json.dumps(client_row.pk + 1).encode()).decode()
    forged = f"{other_id}:{signature}"

    for bad in (forged, token[:-2] + "xx", "1", "not-a-token"):
        response = Browser().post(f"/unsubscribe/{bad}/")
        assert response.status_code == 404
    assert not is_unsubscribed(client_row)


def test_one_clients_token_never_unsubscribes_another(client_row):
    other = make_client(client_row.owner)

    Browser().post(path_for(client_row))

    assert is_unsubscribed(client_row)
    assert not is_unsubscribed(other)
    assert make_token(client_row.pk) != make_token(other.pk)


def test_a_token_signed_for_another_purpose_is_refused(client_row):
    token = signing.dumps(client_row.pk, salt="some.other.feature")
    response = Browser().post(f"/unsubscribe/{token}/")

    assert response.status_code == 404
    assert not is_unsubscribed(client_row)
