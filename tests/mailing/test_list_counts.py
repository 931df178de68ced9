"""Stored list member counts (issue 12): kept by the database in the transaction
of every subscription change, whatever path makes it; rebuilt by a command; read
by the lists page and a list's page."""

import random

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.urls import reverse

from mailing import audiences, data_subjects
from mailing.client_writes import Existing, write_clients
from mailing.list_count_triggers import ensure_sqlite_triggers
from mailing.list_counts import rebuild_counts, recounted, stored_counts
from mailing.models import Client, ListMemberCount, MailingList, Subscription
from mailing.unsubscribe import unsubscribe_client
from tests.factories import make_client, make_list, make_user

pytestmark = pytest.mark.django_db
STATUSES = Subscription.Status.values


def assert_stored_equals_recount():
    lists = list(MailingList.objects.values_list("pk", flat=True))
    assert stored_counts(lists) == recounted(lists)
    # A deleted list leaves no counts behind.
    assert not ListMemberCount.objects.exclude(mailing_list_id__in=lists).exists()


def some(rng, queryset, most=5):
    ids = list(queryset.values_list("pk", flat=True))
    return rng.sample(ids, min(len(ids), rng.randint(1, most)))


def change_at_random(rng, owner, lists):
    """One subscription change by one of the paths that make them."""
    clients = Client.objects.filter(owner=owner)
    target = rng.choice(lists)
    step = rng.randrange(9)
    if step == 0:
        audiences.subscribe(clients.filter(pk__in=some(rng, clients)), target)
    elif step == 1:
        audiences.unsubscribe(clients.filter(pk__in=some(rng, clients)), target)
    elif step == 2:  # the import's and the API's writer
        rows = [{"email": f"r{rng.randrange(60)}@example.org"} for _ in range(4)]
        unique = list({row["email"]: row for row in rows}.values())
        write_clients(owner.pk, unique, Existing.UPDATE, target.pk)
    elif step == 3:
        Subscription.objects.filter(
            pk__in=some(rng, Subscription.objects.filter(mailing_list=target))
        ).update(status=rng.choice(STATUSES))
    elif step == 4:  # a client deleted: its subscriptions go by cascade
        Client.objects.filter(pk__in=some(rng, clients, 2)).delete()
    elif step == 5:  # a data subject erased
        for client in clients.filter(pk__in=some(rng, clients, 1)):
            data_subjects.erase_client(client)
    elif step == 6:
        for pk in some(rng, clients, 2):
            unsubscribe_client(pk)
    elif step == 7:
        Subscription.objects.filter(
            pk__in=some(rng, Subscription.objects.filter(mailing_list=target), 3)
        ).delete()
    elif rng.random() < 0.3:  # a list deleted, another made
        lists.remove(target)
        target.delete()
        lists.append(MailingList.objects.create(owner=owner, name="Новый"))


def test_a_random_mix_of_changes_equals_the_recount():
    rng = random.Random(12)  # noqa: S311 - test data, not security
    owner = make_user("mailing_user")
    lists = [MailingList.objects.create(owner=owner, name=f"L{n}") for n in range(3)]
    for n in range(40):
        make_client(owner, email=f"r{n}@example.org")
    for _step in range(150):
        change_at_random(rng, owner, lists)
    assert_stored_equals_recount()
    counts = stored_counts([x.pk for x in lists])
    assert sum(sum(statuses.values()) for statuses in counts.values()), "no members"


def test_a_rolled_back_change_leaves_the_counts_as_they_were():
    owner = make_user("mailing_user")
    news = MailingList.objects.create(owner=owner, name="News")
    client = make_client(owner, email="a@example.org")
    with pytest.raises(RuntimeError), transaction.atomic():
        audiences.subscribe(Client.objects.filter(pk=client.pk), news)
        assert stored_counts([news.pk])[news.pk]["subscribed"] == 1
        raise RuntimeError
    assert stored_counts([news.pk])[news.pk]["subscribed"] == 0


def test_the_rebuild_command_corrects_wrong_counts():
    owner = make_user("mailing_user")
    news = MailingList.objects.create(owner=owner, name="News")
    audiences.subscribe(
        Client.objects.filter(pk=make_client(owner, email="a@example.org").pk), news
    )
    ListMemberCount.objects.filter(mailing_list=news).update(members=99)
    assert rebuild_counts() == 1
    assert_stored_equals_recount()
    call_command("rebuild_list_counts")
    assert stored_counts([news.pk])[news.pk]["subscribed"] == 1


def test_the_lists_page_and_a_lists_page_show_the_stored_counts(client):
    owner = make_user("mailing_user")
    news = MailingList.objects.create(owner=owner, name="News")
    audiences.subscribe(
        Client.objects.filter(pk=make_client(owner, email="a@example.org").pk), news
    )
    # An impossible number proves the pages read the stored count, not a COUNT.
    ListMemberCount.objects.filter(mailing_list=news, status="subscribed").update(
        members=43210
    )
    client.force_login(owner)
    listing = client.get(reverse("mailing_mailinglist:list"))
    assert listing.status_code == 200
    assert "43" in listing.content.decode() and "210" in listing.content.decode()
    inspect = client.get(reverse("mailing_mailinglist:inspect", args=[news.pk]))
    assert inspect.status_code == 200
    assert "43" in inspect.content.decode() and "210" in inspect.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_list_made_after_a_flush_counts_from_zero():
    """A flush (between transactional tests) may delete the subscriptions after
    their lists on SQLite, which reuses the ids: the new list started from the
    old one's negative count and the mailing form showed an empty audience.
    Flushed here as `flush` does it, for the audience's tables only (the whole
    flush would also take the roles the factories need), with no post_migrate
    after it: a serialized-rollback test's flush sends none."""
    owner = make_user()
    clients = [make_client(owner, email=f"c{n}@example.org") for n in range(3)]
    make_list(owner, name="Before", clients=clients)
    models = (Client, ListMemberCount, MailingList, Subscription)
    tables = sorted(model._meta.db_table for model in models)  # flush's order
    cascade = connection.vendor != "sqlite"  # TRUNCATE needs it; DELETE keeps order
    connection.ops.execute_sql_flush(
        connection.ops.sql_flush(
            no_style(), tables, reset_sequences=True, allow_cascade=cascade
        )
    )

    clients = [make_client(owner, email=f"c{n}@example.org") for n in range(3)]
    fresh = make_list(owner, name="After", clients=clients)

    assert audiences.count_recipients(owner.pk, [fresh.pk]) == 3


def join(client, mailing_list):
    Subscription.objects.create(client=client, mailing_list=mailing_list)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's row triggers")
def test_a_dropped_or_older_trigger_is_put_back_and_the_counts_recounted():
    """A table rebuilt by a migration loses its triggers; a database made before
    the delete trigger learnt to skip gone lists has the older one. post_migrate
    replaces both and recounts what changed meanwhile."""
    owner = make_user()
    news = make_list(owner, name="News")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER mailing_list_counts_insert")
        cursor.execute("DROP TRIGGER mailing_list_counts_delete")
        cursor.execute(
            "CREATE TRIGGER mailing_list_counts_delete AFTER DELETE ON "
            "mailing_subscription BEGIN SELECT 1; END"
        )
    join(make_client(owner, email="late@example.org"), news)

    assert ensure_sqlite_triggers() is True
    assert audiences.count_recipients(owner.pk, [news.pk]) == 1
    join(make_client(owner, email="later@example.org"), news)
    assert audiences.count_recipients(owner.pk, [news.pk]) == 2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'mailing_list_counts_delete'"
        )
        assert "WHEN EXISTS" in cursor.fetchone()[0]
    assert ensure_sqlite_triggers() is False
