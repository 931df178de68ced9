"""Tags, client fields and segments in the admin (issue 12): the owner edits a
client's tags and attributes, filters by tag, builds a segment and reads its count,
picks it for a mailing; another owner finds none of it."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from mailing.models import Client, ClientField, Mailing, Segment
from tests.factories import english, make_client, make_list, make_mailing, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HOME = "/admin/"


def refused(response) -> bool:
    return (
        response.status_code == 302
        and response["Location"] == HOME
        and any(get_messages(response.wsgi_request))
    )


@pytest.fixture
def owner():
    owner = english(make_user())
    ClientField.objects.create(owner=owner, key="city", label="City")
    ClientField.objects.create(
        owner=owner, key="score", label="Score", kind=ClientField.Kind.NUMBER
    )
    return owner


def client_form(client, person, **changes):
    data = {
        "email": person.email,
        "full_name": person.full_name,
        "comment": "",
        "time_zone": "",
        "tags": "",
        "attributes__city": "",
        "attributes__score": "",
        **changes,
    }
    return client.post(reverse("mailing_client:edit", args=[person.pk]), data)


def test_the_client_form_stores_tags_and_typed_attributes(client, owner):
    person = make_client(owner)
    client.force_login(owner)

    page = client.get(reverse("mailing_client:edit", args=[person.pk]))
    assert 'name="attributes__city"' in page.content.decode()
    response = client_form(
        client,
        person,
        tags="VIP, moscow ,vip",
        attributes__city=" Kazan ",
        attributes__score="1 234,5",
    )

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.tags == ["moscow", "vip"]
    assert person.attributes == {"city": "Kazan", "score": 1234.5}


def test_a_bad_attribute_is_named_and_nothing_is_lost(client, owner):
    person = make_client(owner, attributes={"city": "Omsk"})
    client.force_login(owner)

    response = client_form(client, person, attributes__score="много", tags="a")

    assert response.status_code == 200
    assert "score: Expected a number." in response.content.decode()
    assert 'value="много"' in response.content.decode()
    person.refresh_from_db()
    assert person.attributes == {"city": "Omsk"} and person.tags == []


def test_clients_filter_by_tag(client, owner):
    make_client(owner, email="vip@example.org", tags=["vip"])
    make_client(owner, email="plain@example.org")
    client.force_login(owner)

    page = client.get(reverse("mailing_client:list"), {"tag": "VIP"}).content.decode()

    assert "vip@example.org" in page and "plain@example.org" not in page


def segment_data(**rows):
    data = {"name": "Kazan VIPs", "match": "all"}
    for n, (condition, value) in enumerate(rows.values()):
        data[f"rules-{n}-condition"] = condition
        data[f"rules-{n}-value"] = value
    return data


def test_the_owner_builds_a_segment_and_reads_its_count(client, owner):
    make_client(owner, tags=["vip"], attributes={"city": "Kazan"})
    make_client(owner, tags=["vip"], attributes={"city": "Omsk"})
    make_client(
        owner, attributes={"city": "Kazan"}, unsubscribed_at="2026-01-01T00:00Z"
    )
    client.force_login(owner)
    data = segment_data(tag=("tag:has", "vip"), city=("attribute:city:equals", "Kazan"))

    response = client.post(reverse("mailing_segment:add"), data)

    assert response.status_code == 302
    segment = Segment.objects.get(owner=owner)
    assert segment.rules == [
        {"type": "tag", "op": "has", "value": "vip"},
        {"type": "attribute", "op": "equals", "key": "city", "value": "Kazan"},
    ]
    count = client.get(
        reverse("mailing_segment:count"), {**data, "segment": segment.pk}
    ).json()
    assert (count["count"], count["reachable"]) == (1, 1)
    any_of = client.get(reverse("mailing_segment:count"), {**data, "match": "any"})
    assert any_of.json()["count"] == 3
    assert any_of.json()["reachable"] == 2
    edit = client.get(reverse("mailing_segment:edit", args=[segment.pk]))
    assert 'value="attribute:city:equals" selected' in edit.content.decode()


def test_a_bad_condition_is_named_by_its_number(client, owner):
    client.force_login(owner)
    data = segment_data(a=("tag:has", "vip"), b=("signed_up:within_days", "soon"))

    response = client.post(reverse("mailing_segment:add"), data)
    count = client.get(reverse("mailing_segment:count"), data)

    assert response.status_code == 200
    assert "Condition 2: Give a number of days." in response.content.decode()
    assert not Segment.objects.exists()
    assert count.status_code == 400 and "Condition 2" in count.json()["error"]


def test_another_owners_segment_list_and_field_are_not_found(client, owner):
    news = make_list(owner, name="News")
    segment = Segment.objects.create(owner=owner, name="Mine", rules=[])
    field = ClientField.objects.get(owner=owner, key="city")
    stranger = english(make_user())
    client.force_login(stranger)

    assert refused(client.get(reverse("mailing_segment:edit", args=[segment.pk])))
    assert refused(client.get(reverse("mailing_clientfield:edit", args=[field.pk])))
    assert "Mine" not in client.get(reverse("mailing_segment:list")).content.decode()
    used = segment_data(
        a=(f"list:{news.pk}:member", ""), b=("attribute:city:is_set", "")
    )
    answer = client.get(
        reverse("mailing_segment:count"), {**used, "segment": segment.pk}
    )
    assert answer.status_code == 400
    assert "Condition 1: List not found." in answer.json()["error"]
    assert "Condition 2: Field not found." in answer.json()["error"]
    created = client.post(reverse("mailing_segment:add"), {**used, "name": "x"})
    assert created.status_code == 200 and not Segment.objects.filter(name="x").exists()


def test_a_field_key_and_type_are_fixed_once_it_exists(client, owner):
    field = ClientField.objects.get(owner=owner, key="city")
    client.force_login(owner)

    client.post(
        reverse("mailing_clientfield:edit", args=[field.pk]),
        {"label": "Town", "key": "town", "kind": "number"},
    )

    field.refresh_from_db()
    assert (field.label, field.key, field.kind) == ("Town", "city", "text")
    taken = client.post(
        reverse("mailing_clientfield:add"),
        {"label": "Again", "key": "city", "kind": "text"},
    )
    assert "You already have a field with this key." in taken.content.decode()


def test_the_mailing_form_offers_own_segments_and_counts_with_them(client, owner):
    people = [make_client(owner, tags=["vip"]), make_client(owner)]
    news = make_list(owner, clients=people)
    mine = Segment.objects.create(
        owner=owner, name="VIPs", rules=[{"type": "tag", "op": "has", "value": "vip"}]
    )
    other = make_user()
    theirs = Segment.objects.create(owner=other, name="Their segment", rules=[])
    mailing = make_mailing(owner)
    mailing.lists.set([news])
    client.force_login(owner)

    form = client.get(reverse("mailing_mailing:edit", args=[mailing.pk]))
    counted = client.get(
        reverse("mailing_mailing:audience_count"),
        {"lists": news.pk, "segment": mine.pk},
    ).json()
    foreign = client.get(
        reverse("mailing_mailing:audience_count"),
        {"lists": news.pk, "segment": theirs.pk},
    ).json()

    page = form.content.decode()
    assert "VIPs" in page and "Their segment" not in page
    assert counted["count"] == 1
    assert foreign["count"] == 2  # another owner's segment counts as none
    assert Client.objects.filter(owner=owner).count() == 2


def test_a_segment_a_mailing_uses_is_not_deleted(client, owner):
    segment = Segment.objects.create(owner=owner, name="Used", rules=[])
    make_mailing(owner, segment=segment)
    client.force_login(owner)

    response = client.post(reverse("mailing_segment:delete", args=[segment.pk]))

    assert response.status_code < 500
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_the_mailing_form_saves_its_own_segment_and_refuses_anothers(client, owner):
    news = make_list(owner, clients=[make_client(owner)])
    mine = Segment.objects.create(owner=owner, name="Mine", rules=[])
    theirs = Segment.objects.create(owner=make_user(), name="Theirs", rules=[])
    message = make_mailing(owner).message
    client.force_login(owner)

    def post(segment):
        data = {
            "name": f"With {segment.name}",
            "message": message.pk,
            "lists": [news.pk],
            "segment": segment.pk,
            "first_send_at": "2031-01-01 10:00",
            "periodicity": "once",
        }
        return client.post(reverse("mailing_mailing:add"), data)

    refused_form = post(theirs)
    saved = post(mine)

    assert refused_form.status_code == 200
    assert "segment" in refused_form.context["form"].errors
    assert saved.status_code == 302
    assert Mailing.objects.get(name="With Mine").segment == mine
    assert not Mailing.objects.filter(name="With Theirs").exists()
