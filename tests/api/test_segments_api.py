"""Client fields, tags, attributes and segments through the API (issues 12, 15):
the same checks as the admin, ownership on every related id, the bulk upsert's
tags and attributes."""

import pytest

from mailing.models import Client, ClientField, Segment
from tests.factories import make_client, make_list, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def api(owner, token_for):
    ClientField.objects.create(owner=owner, key="city", label="City")
    ClientField.objects.create(
        owner=owner, key="score", label="Score", kind=ClientField.Kind.NUMBER
    )
    return token_for(owner)


def test_a_client_is_written_with_tags_and_typed_attributes(api):
    created = api.post(
        "/api/v1/clients/",
        {
            "email": "ann@example.org",
            "full_name": "Ann",
            "tags": ["VIP", "vip", " new "],
            "attributes": {"city": "Kazan", "score": "7"},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["tags"] == ["new", "vip"]
    assert created.json()["attributes"] == {"city": "Kazan", "score": 7}

    bad = api.patch(
        f"/api/v1/clients/{created.json()['id']}/",
        {"attributes": {"score": "many", "secret": 1}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert bad.status_code == 400
    assert bad.json()["fields"]["attributes"] == [
        "score: Expected a number.",
        "Unknown field: secret.",
    ]


def test_bulk_upsert_replaces_tags_and_merges_attributes(owner, api):
    make_client(
        owner,
        email="old@example.org",
        tags=["a"],
        attributes={"city": "Omsk", "score": 1},
    )
    rows = [
        {"email": "old@example.org", "tags": ["b"], "attributes": {"score": None}},
        {"email": "new@example.org", "attributes": {"city": "Tver"}},
        {"email": "bad@example.org", "attributes": {"score": "x"}},
        # Text where a list belongs is the row's error, not a comma-split list.
        {"email": "odd@example.org", "tags": "not, a list"},
    ]

    answer = api.post(
        "/api/v1/clients/bulk/",
        {"clients": rows},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert answer.status_code == 200, answer.content
    report = answer.json()
    assert (report["created"], report["updated"]) == (1, 1)
    assert report["errors"] == [
        {"row": 2, "field": "attributes", "message": "score: Expected a number."},
        {"row": 3, "field": "tags", "message": "Tags must be a list of words."},
    ]
    old = Client.objects.get(owner=owner, email="old@example.org")
    assert (old.tags, old.attributes) == (["b"], {"city": "Omsk"})
    new = Client.objects.get(owner=owner, email="new@example.org")
    assert (new.tags, new.attributes) == ([], {"city": "Tver"})
    assert not Client.objects.filter(
        email__in=["bad@example.org", "odd@example.org"]
    ).exists()


def test_segments_crud_count_and_use_in_a_mailing(owner, api):
    news = make_list(
        owner,
        clients=[
            make_client(owner, tags=["vip"], attributes={"score": 9}),
            make_client(owner, tags=["vip"], unsubscribed_at="2026-01-01T00:00Z"),
            make_client(owner),
        ],
    )
    rules = [
        {"type": "tag", "op": "has", "value": "vip"},
        {"type": "list", "list": news.pk, "op": "subscribed"},
    ]
    created = api.post(
        "/api/v1/segments/", {"name": "VIPs", "rules": rules}, format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert api.get(f"/api/v1/segments/{pk}/count/").json() == {
        "count": 2,
        "reachable": 1,
    }
    message = api.post(
        "/api/v1/messages/", {"subject": "Hi", "body": "Hi"}, format="json"
    ).json()["id"]
    mailing = api.post(
        "/api/v1/mailings/",
        {
            "name": "To VIPs",
            "message": message,
            "lists": [news.pk],
            "segment": pk,
            "first_send_at": "2030-01-01T10:00:00Z",
        },
        format="json",
    )
    assert mailing.status_code == 201, mailing.content
    assert mailing.json()["segment"] == pk
    in_use = api.delete(f"/api/v1/segments/{pk}/")
    assert in_use.status_code == 409
    assert Segment.objects.filter(pk=pk).exists()


def test_bad_or_foreign_rules_and_ids_are_refused(owner, api, token_for):
    stranger = make_user()
    theirs = make_list(stranger)
    their_segment = Segment.objects.create(owner=stranger, name="Theirs")
    answer = api.post(
        "/api/v1/segments/",
        {
            "name": "Steal",
            "rules": [
                {"type": "list", "list": theirs.pk, "op": "member"},
                {"type": "attribute", "key": "score", "op": "contains", "value": 1},
                {"type": "sql", "op": "drop"},
            ],
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert answer.json()["fields"]["rules"] == [
        "Condition 1: List not found.",
        "Condition 2: Only text fields can contain words.",
        "Condition 3: Unknown condition type.",
    ]
    assert api.get(f"/api/v1/segments/{their_segment.pk}/count/").status_code == 404
    message = api.post(
        "/api/v1/messages/", {"subject": "Hi", "body": "Hi"}, format="json"
    ).json()["id"]
    mailing = api.post(
        "/api/v1/mailings/",
        {
            "name": "x",
            "message": message,
            "all_clients": True,
            "segment": their_segment.pk,
            "first_send_at": "2030-01-01T10:00:00Z",
        },
        format="json",
    )
    assert mailing.status_code == 400 and "segment" in mailing.json()["fields"]


def test_a_field_key_is_unique_and_fixed(api):
    again = api.post(
        "/api/v1/client-fields/",
        {"key": "city", "label": "Town"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert again.status_code == 400
    assert again.json()["fields"]["key"] == ["You already have a field with this key."]
    field = ClientField.objects.get(key="city")
    renamed = api.patch(
        f"/api/v1/client-fields/{field.pk}/", {"kind": "number"}, format="json"
    )
    assert renamed.status_code == 400
    bad_key = api.post(
        "/api/v1/client-fields/", {"key": "a__b", "label": "x"}, format="json"
    )
    assert bad_key.status_code == 400 and "key" in bad_key.json()["fields"]
