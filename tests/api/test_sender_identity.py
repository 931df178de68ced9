"""A message sent through the API can come only from a confirmed identity of its
owner (issue 14): unconfirmed or foreign identities are "not found"."""

import pytest

from tests.factories import make_sender, make_user

pytestmark = pytest.mark.django_db


def post_message(api, sender_id):
    return api.post(
        "/api/v1/messages/",
        {"subject": "Hello", "body": "Text", "sender": sender_id},
        format="json",
    )


def test_an_unconfirmed_identity_cannot_be_used(owner, token_for):
    api = token_for(owner)
    pending = make_sender(owner, confirmed=False)

    answer = post_message(api, pending.pk)

    assert answer.status_code == 400
    assert "sender" in answer.json()["fields"]
    assert not owner.messages.exists()


def test_another_owners_confirmed_identity_cannot_be_used(owner, token_for):
    theirs = make_sender(make_user(), confirmed=True)

    answer = post_message(token_for(owner), theirs.pk)

    assert answer.status_code == 400
    assert "sender" in answer.json()["fields"]


def test_a_confirmed_identity_of_ones_own_is_used(owner, token_for):
    mine = make_sender(owner, confirmed=True)

    answer = post_message(token_for(owner), mine.pk)

    assert answer.status_code == 201, answer.content
    assert answer.json()["sender"] == mine.pk
