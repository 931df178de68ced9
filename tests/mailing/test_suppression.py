"""Suppression that outlives deletion, and the data-subject tools (issue 12)."""

import json
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from mailing import data_subjects, services, suppression
from mailing.events import suppress
from mailing.models import (
    Attempt,
    Client,
    Event,
    MailingRun,
    Suppression,
    SuppressionRemoval,
)
from mailing.unsubscribe import unsubscribe_client
from tests.factories import english, import_file, make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db

Reason = Suppression.Reason


def entry_for(owner, email) -> Suppression | None:
    digest = suppression.address_hash(email)
    return Suppression.objects.filter(owner=owner, address_hash=digest).first()


def test_the_hash_is_of_the_normalised_address():
    assert suppression.address_hash(" Ann@Пример.рф ") == suppression.address_hash(
        "ann@xn--e1afmkfd.xn--p1ai"
    )
    assert len(suppression.address_hash("a@example.org")) == 64


def test_unsubscribes_bounces_and_complaints_land_on_the_owners_list():
    owner, other = make_user(), make_user()
    quits, bounces = make_client(owner), make_client(owner)
    same_address_elsewhere = make_client(other, email=quits.email)

    unsubscribe_client(quits.pk)
    suppress(bounces.pk, "hard bounce: 550 no such user")

    assert entry_for(owner, quits.email).reason == Reason.UNSUBSCRIBE
    assert entry_for(owner, bounces.email).reason == Reason.HARD_BOUNCE
    assert entry_for(other, same_address_elsewhere.email) is None


def test_an_erased_opted_out_client_reimported_stays_suppressed(tmp_path: Path):
    owner = make_user()
    gone = make_client(owner, email="Gone@Example.org", full_name="Кошкин")
    keeps = make_client(owner, email="keeps@example.org")
    unsubscribe_client(gone.pk)

    data_subjects.erase_client(gone)
    assert not Client.objects.filter(email__iexact="gone@example.org").exists()
    (entry,) = Suppression.objects.filter(owner=owner)
    assert entry.address_hash == suppression.address_hash("gone@example.org")
    assert "Кошкин" not in json.dumps(list(Suppression.objects.values()), default=str)

    upload = tmp_path / "again.csv"
    upload.write_text("email,name\ngone@example.org,Кошкин\nnew@example.org,New\n")
    import_file(owner, upload)
    back = Client.objects.get(email="gone@example.org")
    assert back.unsubscribed_at is not None  # opted out again, by the list
    mailing = make_mailing(owner, all_clients=True)
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    sent = set(run.attempts.values_list("client__email", flat=True))
    assert sent == {keeps.email, "new@example.org"}
    assert run.skipped_count == 1


def test_a_client_added_by_hand_with_a_suppressed_address_is_born_suppressed():
    owner = make_user()
    suppression.suppress_address(owner.pk, "x@example.org", Reason.COMPLAINT)

    again = make_client(owner, email="X@example.org")

    again.refresh_from_db()
    assert again.suppressed_reason


def test_lifting_an_entry_logs_who_and_why_and_lets_the_address_be_mailed():
    owner = make_user()
    client = make_client(owner)
    unsubscribe_client(client.pk)
    entry = entry_for(owner, client.email)

    suppression.lift(entry, owner, "Asked by phone to be mailed again")

    client.refresh_from_db()
    assert client.unsubscribed_at is None and client.suppressed_reason == ""
    (log,) = SuppressionRemoval.objects.all()
    assert (log.removed_by, log.reason) == (owner, Reason.UNSUBSCRIBE)
    assert log.note == "Asked by phone to be mailed again"
    assert not Suppression.objects.exists()


def test_lifting_a_bounce_keeps_an_unsubscribe_that_came_after_it():
    owner = make_user()
    client = make_client(owner)
    suppress(client.pk, "hard bounce: 550 no such user")
    unsubscribe_client(client.pk)  # the entry keeps its first reason: the bounce
    bounce = entry_for(owner, client.email)
    assert bounce.reason == Reason.HARD_BOUNCE

    suppression.lift(bounce, owner, "The mailbox exists again")

    client.refresh_from_db()
    assert client.suppressed_reason == "" and client.unsubscribed_at is not None
    assert entry_for(owner, client.email).reason == Reason.UNSUBSCRIBE


def test_an_address_added_by_hand_in_unicode_flags_its_stored_client():
    owner = make_user()
    stored = make_client(owner, email="anna@xn--e1afmkfd.xn--p1ai")  # пример.рф

    suppression.suppress_address(owner.pk, "Anna@Пример.рф", Reason.MANUAL, "asked")

    stored.refresh_from_db()
    assert stored.suppressed_reason == "asked"


def test_the_export_holds_what_the_owner_knows_about_the_client():
    owner = make_user()
    client = make_client(owner, full_name="Анна", comment="VIP")
    mailing = make_mailing(owner, clients=[client], name="Новости")
    services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())

    record = data_subjects.client_record(client)

    assert record["client"]["full_name"] == "Анна"
    assert record["client"]["comment"] == "VIP"
    assert record["lists"][0]["list"] == "Новости — получатели"
    assert record["emails"][0]["mailing"] == "Новости"


# --- In the admin ------------------------------------------------------------------


def refused(response) -> bool:
    return (
        response.status_code == 302
        and response["Location"] == "/admin/"
        and any(get_messages(response.wsgi_request))
    )


def test_owners_see_search_export_and_remove_only_their_entries(client):
    owner, other = english(make_user()), make_user()
    suppression.suppress_address(owner.pk, "mine@example.org", Reason.MANUAL)
    suppression.suppress_address(other.pk, "theirs@example.org", Reason.MANUAL)
    theirs = entry_for(other, "theirs@example.org")
    client.force_login(owner)
    listing = reverse("mailing_suppression:list")

    found = client.get(listing, {"address": "MINE@example.org"})
    missed = client.get(listing, {"address": "theirs@example.org"})
    export = client.get(listing, {"export": "csv"})
    remove = reverse("mailing_suppression:remove", args=[theirs.pk])

    assert len(found.context["object_list"]) == 1
    assert len(missed.context["object_list"]) == 0
    assert suppression.address_hash("mine@example.org") in export.getvalue().decode()
    assert theirs.address_hash not in export.getvalue().decode()
    assert refused(client.post(remove, {"note": "mine now"}))
    assert Suppression.objects.filter(pk=theirs.pk).exists()

    mine = entry_for(owner, "mine@example.org")
    own_remove = reverse("mailing_suppression:remove", args=[mine.pk])
    assert client.post(own_remove, {"note": ""}).status_code == 200  # a reason, please
    assert client.post(own_remove, {"note": "typo"}).status_code == 302
    assert not Suppression.objects.filter(pk=mine.pk).exists()


def test_only_the_owner_exports_or_erases_a_client(client):
    owner = english(make_user())
    person = make_client(owner, full_name="Анна")
    export = reverse("mailing_client:export_data", args=[person.pk])
    erase = reverse("mailing_client:erase", args=[person.pk])

    for stranger in (make_user(), make_user("manager")):
        client.force_login(stranger)
        assert refused(client.get(export))
        assert refused(client.post(erase, {"confirm": "on"}))
    client.force_login(owner)
    data = json.loads(client.get(export).content)
    assert data["client"]["full_name"] == "Анна"
    assert client.post(erase, {"confirm": "on"}).status_code == 302
    assert not Client.objects.filter(pk=person.pk).exists()
    assert entry_for(owner, person.email).reason == Reason.MANUAL


@pytest.mark.parametrize(
    ("event_kind", "kept_reason"),
    [("complained", Reason.COMPLAINT), ("hard_bounce", Reason.HARD_BOUNCE)],
)
def test_an_erased_flagged_client_without_an_entry_keeps_why(event_kind, kept_reason):
    # A client flagged before the suppression list existed has no entry of its own.
    owner = make_user()
    person = make_client(owner, email="flagged@example.org", suppressed_reason="x")
    mailing = make_mailing(owner, clients=[person])
    run = MailingRun.objects.create(
        mailing=mailing, kind="manual", slot=timezone.now(), status="finished"
    )
    attempt = Attempt.objects.create(
        run=run, mailing=mailing, client=person, status="success"
    )
    Event.objects.create(
        attempt=attempt,
        kind=event_kind,
        at=timezone.now(),
        source="test",
        dedupe_key=event_kind,
    )

    data_subjects.erase_client(person)

    (entry,) = Suppression.objects.filter(owner=owner)
    assert entry.reason == kept_reason
