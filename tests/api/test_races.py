"""Two requests that create the same row at once (a client's retry, a double
submit): the one that comes second gets the refusal a later request gets, a 400
on the field, not the unique constraint's IntegrityError as a 500."""

import pytest

from mailing.api.views import ClientFieldViewSet, ClientViewSet, SenderIdentityViewSet
from mailing.models import Client, ClientField, SenderIdentity
from tests.factories import make_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def first_elsewhere(monkeypatch):
    """Another request's row is inserted between the API's checks and its own
    INSERT: what happens when both pass their checks at the same moment."""

    def arrange(viewset, model, **values):
        for name in ("perform_create", "perform_update"):
            real = getattr(viewset, name)

            def perform(self, serializer, real=real):
                model.objects.create(**values)
                return real(self, serializer)

            monkeypatch.setattr(viewset, name, perform)

    return arrange


def test_a_client_created_twice_at_once(owner, token_for, first_elsewhere):
    first_elsewhere(
        ClientViewSet, Client, owner=owner, email="Twice@example.org", full_name="A"
    )
    answer = token_for(owner).post(
        "/api/v1/clients/",
        {"email": "twice@example.org", "full_name": "B"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["fields"] == {
        "email": ["У вас уже есть клиент с этим адресом."]
    }
    assert Client.objects.filter(owner=owner).count() == 1


def test_a_client_renamed_to_an_address_taken_meanwhile(
    owner, token_for, first_elsewhere
):
    client = make_client(owner, email="old@example.org")
    first_elsewhere(
        ClientViewSet, Client, owner=owner, email="new@example.org", full_name="A"
    )
    answer = token_for(owner).patch(
        f"/api/v1/clients/{client.pk}/", {"email": "new@example.org"}, format="json"
    )
    assert answer.status_code == 400, answer.content
    assert list(answer.json()["fields"]) == ["email"]
    client.refresh_from_db()
    assert client.email == "old@example.org"


def test_a_client_field_declared_twice_at_once(owner, token_for, first_elsewhere):
    first_elsewhere(
        ClientFieldViewSet, ClientField, owner=owner, key="city", label="City"
    )
    answer = token_for(owner).post(
        "/api/v1/client-fields/",
        {"key": "city", "label": "Town", "kind": "text"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["fields"] == {
        "key": ["You already have a field with this key."]
    }


def test_a_sender_identity_added_twice_at_once(owner, token_for, first_elsewhere):
    first_elsewhere(
        SenderIdentityViewSet,
        SenderIdentity,
        owner=owner,
        from_name="A",
        from_email="news@example.org",
        postal_address="1 Street",
    )
    answer = token_for(owner).post(
        "/api/v1/senders/",
        {
            "from_name": "B",
            "from_email": "news@example.org",
            "postal_address": "1 Street",
        },
        format="json",
    )
    assert answer.status_code == 400, answer.content
    assert list(answer.json()["fields"]) == ["from_email"]
    assert SenderIdentity.objects.filter(owner=owner).count() == 1
