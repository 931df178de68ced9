"""Segments (issue 12): every rule type on PostgreSQL, the checks that refuse bad
or foreign rules, and a segment narrowing a run's recipients when it opens."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from mailing import audiences, services
from mailing.models import (
    Attempt,
    Client,
    ClientField,
    Event,
    MailingRun,
    Segment,
    Subscription,
)
from mailing.segments import clean_rules, segment_clients
from tests.factories import make_client, make_list, make_mailing, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

Kind = ClientField.Kind


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def matched(owner, *rules, match="all") -> set[str]:
    segment = Segment(
        owner=owner, name="s", match=match, rules=clean_rules(owner.pk, list(rules))
    )
    return set(segment_clients(segment).values_list("email", flat=True))


@pytest.fixture
def owner():
    return make_user()


@pytest.fixture
def people(owner):
    for key, kind in (("city", Kind.TEXT), ("score", Kind.NUMBER), ("born", Kind.DATE)):
        ClientField.objects.create(owner=owner, key=key, label=key, kind=kind)
    ClientField.objects.create(owner=owner, key="vip", label="VIP", kind=Kind.BOOLEAN)
    ann = make_client(
        owner,
        email="ann@corp.example",
        full_name="Ann Lee",
        tags=["vip", "beta"],
        attributes={"city": "Moscow", "score": 10, "born": "1990-05-01", "vip": True},
    )
    bob = make_client(
        owner,
        email="bob@mail.example",
        full_name="",
        tags=["beta"],
        attributes={"city": "Kazan", "score": 2.5},
    )
    cid = make_client(owner, email="cid@corp.example", full_name="Cid Moss")
    Client.objects.filter(pk=cid.pk).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    # Someone else's client matches every rule and is never in the answer.
    other = make_user()
    make_client(other, email="ann@corp.example", tags=["vip"])
    return {"ann": ann, "bob": bob, "cid": cid}


def test_email_domain_and_full_name(owner, people):
    assert matched(
        owner, {"type": "email_domain", "op": "is", "value": "@Corp.example"}
    ) == {
        "ann@corp.example",
        "cid@corp.example",
    }
    assert matched(
        owner, {"type": "email_domain", "op": "is_not", "value": "corp.example"}
    ) == {"bob@mail.example"}
    assert matched(owner, {"type": "full_name", "op": "contains", "value": "moss"}) == {
        "cid@corp.example"
    }
    assert matched(owner, {"type": "full_name", "op": "is_empty"}) == {
        "bob@mail.example"
    }


def test_sign_up_date(owner, people):
    recent = {"type": "signed_up", "op": "within_days", "value": 30}
    assert matched(owner, recent) == {"ann@corp.example", "bob@mail.example"}
    old = {"type": "signed_up", "op": "not_within_days", "value": "30"}
    assert matched(owner, old) == {"cid@corp.example"}
    cutoff = (timezone.now() - timedelta(days=100)).date().isoformat()
    assert matched(owner, {"type": "signed_up", "op": "before", "value": cutoff}) == {
        "cid@corp.example"
    }
    assert matched(owner, {"type": "signed_up", "op": "after", "value": cutoff}) == {
        "ann@corp.example",
        "bob@mail.example",
    }


def test_tags_has_and_has_not(owner, people):
    assert matched(owner, {"type": "tag", "op": "has", "value": " VIP "}) == {
        "ann@corp.example"
    }
    assert matched(owner, {"type": "tag", "op": "has_not", "value": "beta"}) == {
        "cid@corp.example"
    }


def test_attributes_by_type(owner, people):
    def attr(key, op, value=None):
        return {"type": "attribute", "key": key, "op": op, "value": value}

    assert matched(owner, attr("city", "equals", "Moscow")) == {"ann@corp.example"}
    assert matched(owner, attr("city", "not_equals", "Moscow")) == {
        "bob@mail.example",
        "cid@corp.example",
    }
    assert matched(owner, attr("city", "contains", "aza")) == {"bob@mail.example"}
    assert matched(owner, attr("score", "gt", "3")) == {"ann@corp.example"}
    assert matched(owner, attr("score", "lt", 3)) == {"bob@mail.example"}
    assert matched(owner, attr("score", "equals", "2,5")) == {"bob@mail.example"}
    assert matched(owner, attr("born", "lt", "01.01.2000")) == {"ann@corp.example"}
    assert matched(owner, attr("vip", "equals", "да")) == {"ann@corp.example"}
    assert matched(owner, attr("score", "is_set")) == {
        "ann@corp.example",
        "bob@mail.example",
    }
    assert matched(owner, attr("born", "is_not_set")) == {
        "bob@mail.example",
        "cid@corp.example",
    }


def test_list_membership_by_status(owner, people):
    news = make_list(owner, clients=[people["ann"]])
    Subscription.objects.create(
        client=people["bob"], mailing_list=news, status="unsubscribed"
    )

    def on(op):
        return matched(owner, {"type": "list", "list": news.pk, "op": op})

    assert on("subscribed") == {"ann@corp.example"}
    assert on("unsubscribed") == {"bob@mail.example"}
    assert on("member") == {"ann@corp.example", "bob@mail.example"}
    assert on("not_member") == {"cid@corp.example"}


def test_engagement_from_events(owner, people):
    mailing = make_mailing(owner, clients=[people["ann"], people["bob"]])
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    now = timezone.now()
    for client, kind, days, verdict in (
        (people["ann"], Event.Kind.OPENED, 5, ""),
        (people["bob"], Event.Kind.OPENED, 200, ""),
        (people["bob"], Event.Kind.CLICKED, 1, Event.Verdict.SCANNER),
    ):
        Event.objects.create(
            attempt=Attempt.objects.get(run=run, client=client),
            kind=kind,
            at=now - timedelta(days=days),
            source="pixel",
            dedupe_key=f"{kind}-{client.pk}",
            verdict=verdict,
        )

    def engaged(op, days):
        return matched(owner, {"type": "engagement", "op": op, "value": days})

    assert engaged("opened", 90) == {"ann@corp.example"}
    assert engaged("opened", 365) == {"ann@corp.example", "bob@mail.example"}
    assert engaged("clicked", 30) == set()  # the scanner's click is no reader's
    assert engaged("not_opened", 90) == {"bob@mail.example", "cid@corp.example"}


def test_all_or_any(owner, people):
    rules = (
        {"type": "tag", "op": "has", "value": "beta"},
        {"type": "email_domain", "op": "is", "value": "corp.example"},
    )
    assert matched(owner, *rules) == {"ann@corp.example"}
    assert matched(owner, *rules, match="any") == {
        "ann@corp.example",
        "bob@mail.example",
        "cid@corp.example",
    }
    assert len(matched(owner)) == 3  # no condition: every client of the owner


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("tag", "Not a condition."),
        ({"type": "sql", "op": "is"}, "Unknown condition type."),
        ({"type": "tag", "op": "gt", "value": "x"}, "does not fit"),
        ({"type": "tag", "op": "has", "value": ""}, "Give a value."),
        ({"type": "attribute", "key": "nope", "op": "equals", "value": 1}, "not found"),
        (
            {"type": "attribute", "key": "city", "op": "gt", "value": "a"},
            "Only numbers",
        ),
        (
            {"type": "attribute", "key": "score", "op": "equals", "value": "ten"},
            "number",
        ),
        ({"type": "engagement", "op": "opened", "value": 0}, "Between 1"),
        ({"type": "signed_up", "op": "before", "value": "yesterday"}, "a date"),
    ],
)
def test_bad_rules_are_refused_with_their_number(owner, people, rule, message):
    with pytest.raises(ValidationError) as caught:
        clean_rules(owner.pk, [{"type": "tag", "op": "has", "value": "ok"}, rule])
    assert caught.value.messages[0].startswith("Condition 2:")
    assert message in caught.value.messages[0]


def test_another_owners_list_and_field_are_not_found(owner, people):
    other = make_user()
    foreign = make_list(other, clients=[make_client(other)])
    ClientField.objects.create(owner=other, key="secret", label="s")
    for rule in (
        {"type": "list", "list": foreign.pk, "op": "member"},
        {"type": "attribute", "key": "secret", "op": "is_set"},
    ):
        with pytest.raises(ValidationError, match="not found"):
            clean_rules(owner.pk, [rule])


def test_a_run_opened_with_a_segment_reaches_its_matching_subscribers(owner, people):
    news = make_list(owner, clients=list(people.values()))
    dropped = make_client(owner, email="gone@corp.example", tags=["vip"])
    Subscription.objects.create(client=dropped, mailing_list=news)
    Client.objects.filter(pk=dropped.pk).update(unsubscribed_at=timezone.now())
    bounced = make_client(
        owner, email="bounced@corp.example", suppressed_reason="550 no such user"
    )
    Subscription.objects.create(client=bounced, mailing_list=news)
    outsider = make_client(owner, email="outsider@corp.example")  # on no list
    segment = Segment.objects.create(
        owner=owner,
        name="Corporate",
        rules=[{"type": "email_domain", "op": "is", "value": "corp.example"}],
    )
    mailing = make_mailing(owner, segment=segment)
    mailing.lists.set([news])

    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())

    reached = set(run.attempts.values_list("client__email", flat=True))
    assert reached == {"ann@corp.example", "cid@corp.example"}
    assert outsider.email not in reached
    assert audiences.recipient_count(mailing) == 2
    mailing.all_clients = True
    mailing.save()
    assert audiences.recipient_count(mailing) == 3  # the outsider too


def test_deleting_a_field_forgets_its_values(owner, people):
    ClientField.objects.get(owner=owner, key="city").delete()

    people["ann"].refresh_from_db()
    assert "city" not in people["ann"].attributes
    assert people["ann"].attributes["score"] == 10


def test_a_client_with_an_undeclared_or_mistyped_attribute_is_refused(owner, people):
    client = Client(
        owner=owner,
        email="x@example.org",
        tags="Hot, hot , new",
        attributes={"score": "lots", "colour": "red"},
    )
    with pytest.raises(ValidationError) as caught:
        client.full_clean()
    assert caught.value.message_dict["attributes"] == [
        "score: Expected a number.",
        "Unknown field: colour.",
    ]
    assert client.tags == ["hot", "new"]
