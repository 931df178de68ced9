"""Lists and targeting (issue 12): who a run reaches, resolved in the database;
the claim's "still a recipient"; the mailing form shows counts, never people."""

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mailing import audiences, services
from mailing.models import Attempt, Client, Mailing, MailingRun, Subscription
from mailing.sending.outbox import claim_batch, drop_unsendable
from tests.factories import (
    english,
    make_client,
    make_list,
    make_mailing,
    make_message,
    make_user,
)

pytestmark = pytest.mark.django_db

STATUS = Subscription.Status


def open_now(mailing: Mailing) -> MailingRun:
    return services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())


def sent_to(run: MailingRun) -> set[str]:
    return set(run.attempts.values_list("client__email", flat=True))


def test_a_run_reaches_the_subscribed_members_of_its_lists_once_each():
    owner, other = make_user(), make_user()
    both = make_client(owner, email="both@example.org")
    news_only = make_client(owner, email="news@example.org")
    left = make_client(owner, email="left@example.org")
    pending = make_client(owner, email="pending@example.org")
    opted_out = make_client(owner, email="optout@example.org")
    opted_out.unsubscribed_at = timezone.now()
    opted_out.save()
    bounced = make_client(owner, email="bounced@example.org", suppressed_reason="550")
    make_client(owner, email="nolist@example.org")
    news = make_list(owner, clients=[both, news_only, opted_out, bounced])
    offers = make_list(owner, clients=[both])
    Subscription.objects.create(client=left, mailing_list=offers, status="unsubscribed")
    Subscription.objects.create(client=pending, mailing_list=news, status="unconfirmed")
    # Someone else's list with the same address is not this mailing's audience.
    make_list(other, clients=[make_client(other, email="both@example.org")])
    mailing = make_mailing(owner)
    mailing.lists.set([news, offers])

    with CaptureQueriesContext(connection) as queries:
        run = open_now(mailing)

    assert sent_to(run) == {"both@example.org", "news@example.org"}
    assert run.total == 2
    assert run.skipped_count == 2  # the opted-out and the suppressed member
    inserts = [q for q in queries if q["sql"].lstrip().startswith("INSERT INTO")]
    outbox = [q for q in inserts if Attempt._meta.db_table in q["sql"][:40]]
    assert len(outbox) == 1, "the outbox is one INSERT ... SELECT"
    assert audiences.recipient_count(mailing) == 2


def test_all_my_clients_reaches_every_client_of_the_owner_and_nobody_else():
    owner, other = make_user(), make_user()
    mine = [make_client(owner) for _ in range(3)]
    make_client(other)
    mailing = make_mailing(owner, all_clients=True)

    run = open_now(mailing)

    assert sent_to(run) == {client.email for client in mine}


def test_the_audience_names_its_lists_by_id_so_the_planner_sees_their_size():
    """From a subquery over the mailing's lists the planner guessed a few hundred
    members where an outbox chunk has 50,000 and probed the clients one by one
    (issue 12: opening a run over 1M clients)."""
    owner = make_user()
    news = make_list(owner, clients=[make_client(owner)])
    mailing = make_mailing(owner)
    mailing.lists.set([news])

    sql = str(audiences.audience(mailing).query)

    assert Mailing.lists.through._meta.db_table not in sql, sql
    assert audiences.audience(mailing).count() == 1


def test_a_mailing_with_no_list_left_opens_an_empty_run():
    owner = make_user()
    make_client(owner)
    mailing = make_mailing(owner)
    mailing.lists.set([])

    run = open_now(mailing)

    assert (run.total, run.skipped_count, run.attempts.count()) == (0, 0, 0)
    assert audiences.recipient_count(mailing) == 0


def test_the_claim_drops_a_member_who_left_the_list_after_the_run_opened():
    owner = make_user()
    stays, leaves, removed = (make_client(owner) for _ in range(3))
    news = make_list(owner, clients=[stays, leaves, removed])
    mailing = make_mailing(owner)
    mailing.lists.set([news])
    run = open_now(mailing)

    Subscription.objects.filter(client=leaves).update(status=STATUS.UNSUBSCRIBED)
    Subscription.objects.filter(client=removed).delete()
    claimed = claim_batch(run.pk, 100, timezone.now())

    assert [row[2] for row in claimed] == [stays.pk]
    assert drop_unsendable(run.pk) == 2
    counts = Counter(run.attempts.values_list("status", flat=True))
    assert counts == {Attempt.Status.SENDING: 1, Attempt.Status.CANCELLED: 2}


def test_a_mailing_to_all_clients_still_sends_to_someone_on_no_list():
    owner = make_user()
    loner = make_client(owner)
    run = open_now(make_mailing(owner, all_clients=True))

    assert [row[2] for row in claim_batch(run.pk, 100, timezone.now())] == [loner.pk]


# --- The mailing form ----------------------------------------------------------------


def form_data(message, **extra) -> dict:
    return {
        "name": "Big list",
        "message": message.pk,
        "first_send_at": "2031-01-01 10:00",
        "periodicity": "once",
        "end_at": "",
        **extra,
    }


def many_clients(owner, count: int) -> None:
    Client.objects.bulk_create(
        Client(owner=owner, email=f"m{n}@example.org", full_name=f"M {n}")
        for n in range(count)
    )


@pytest.mark.slow
def test_a_mailing_to_12000_recipients_saves_and_its_form_shows_only_counts(client):
    """Issue 12: 12,000 checkboxes answered 400 TooManyFieldsSent."""
    owner = english(make_user())
    many_clients(owner, 12_000)
    big = make_list(owner, name="Everyone")
    audiences.subscribe(Client.objects.filter(owner=owner), big)
    client.force_login(owner)

    add = client.get(reverse("mailing_mailing:add"))
    saved = client.post(
        reverse("mailing_mailing:add"),
        form_data(make_message(owner), lists=[big.pk]),
    )
    mailing = Mailing.objects.get(owner=owner)
    edit = client.get(reverse("mailing_mailing:edit", args=[mailing.pk]))

    assert saved.status_code == 302
    for page in (add, edit):
        html = page.content.decode()
        assert "Everyone (12000 subscribed)" in html or "Everyone (12,000" in html
        assert "m1@example.org" not in html
        assert len(html) < 200_000
    assert audiences.recipient_count(mailing) == 12_000


def test_the_form_wants_a_list_or_all_clients_and_only_the_owners_lists(client):
    owner, other = english(make_user()), make_user()
    theirs = make_list(other, name="Their list")
    client.force_login(owner)
    add = reverse("mailing_mailing:add")

    nothing = client.post(add, form_data(make_message(owner)))
    foreign = client.post(add, form_data(make_message(owner), lists=[theirs.pk]))
    everyone = client.post(add, form_data(make_message(owner), all_clients="on"))

    assert "lists" in nothing.context["form"].errors
    assert "lists" in foreign.context["form"].errors
    assert everyone.status_code == 302
    assert Mailing.objects.get(owner=owner).all_clients
    assert "Their list" not in client.get(add).content.decode()


def test_the_live_count_counts_only_the_owners_own_lists(client):
    owner, other = english(make_user()), make_user()
    ann, bob = make_client(owner), make_client(owner)
    ann.unsubscribed_at = timezone.now()
    ann.save()
    news = make_list(owner, clients=[ann, bob])
    theirs = make_list(other, clients=[make_client(other), make_client(other)])
    their_mailing = make_mailing(other, all_clients=True)
    url = reverse("mailing_mailing:audience_count")

    client.force_login(owner)
    mine = client.get(url, {"lists": [news.pk]}).json()
    foreign = client.get(url, {"lists": [theirs.pk, "x"]}).json()
    everyone = client.get(url, {"all_clients": "on", "mailing": their_mailing.pk})
    client.force_login(make_user("editor"))
    editor = client.get(url, {"lists": [theirs.pk]})
    client.logout()
    anonymous = client.get(url)

    assert mine == {"count": 1, "text": "Audience: 1 recipient now."}
    assert foreign["count"] == 0
    assert everyone.json()["count"] == 1  # the viewer's clients, not the other's
    assert editor.status_code in (302, 403) and "count" not in editor.content.decode()
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
