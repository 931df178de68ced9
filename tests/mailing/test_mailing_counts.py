"""How many mailings each owner and the whole service have, by status (issue 17):
kept by the database in the transaction of every mailing change, whatever path
makes it; rebuilt by the counts' command; read by the figures."""

import random
from itertools import permutations

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mailing.mailing_count_triggers import ensure_sqlite_triggers
from mailing.mailing_counts import (
    rebuild_mailing_counts,
    recounted,
    stored_counts,
    stored_mailings,
)
from mailing.models import Mailing, MailingCount
from mailing.scheduling import finish_schedule, mark_sent_now
from mailing.stats import service_figures
from tests.factories import make_mailing, make_message, make_user
from tests.mailing.test_owner_client_counts import flush

pytestmark = pytest.mark.django_db

RUNNING, FINISHED = Mailing.Status.RUNNING, Mailing.Status.FINISHED


def assert_stored_equals_recount():
    assert stored_counts() == recounted()


def test_each_way_of_writing_mailings_is_counted_for_its_owner_and_the_service():
    owner, other = make_user("mailing_user"), make_user("mailing_user")
    make_mailing(owner)
    message = make_message(other)
    Mailing.objects.bulk_create(
        Mailing(
            owner=other, message=message, name=f"b{n}", first_send_at=message.created_at
        )
        for n in range(3)
    )
    assert stored_mailings(owner.pk) == {"created": 1}
    assert stored_mailings(other.pk) == {"created": 3}
    assert stored_mailings(None) == {"created": 4}
    assert_stored_equals_recount()
    Mailing.objects.filter(owner=other).first().delete()
    assert stored_mailings(None) == {"created": 3}
    assert_stored_equals_recount()


def test_a_status_moved_by_save_or_update_moves_its_count():
    owner = make_user("mailing_user")
    first, second, third = (make_mailing(owner) for _ in range(3))
    Mailing.objects.filter(pk=first.pk).update(status=RUNNING)
    second.status = FINISHED
    second.save()
    third.name = "Renamed"  # no status change: nothing counted
    third.save()
    assert stored_mailings(owner.pk) == {"created": 1, "running": 1, "finished": 1}
    assert stored_mailings(None) == stored_mailings(owner.pk)
    assert_stored_equals_recount()


def test_a_mailing_given_to_another_owner_moves_its_count():
    owner, other = make_user("mailing_user"), make_user("mailing_user")
    mailing = make_mailing(owner)
    Mailing.objects.filter(pk=mailing.pk).update(owner=other, status=RUNNING)
    assert stored_mailings(owner.pk) == {}
    assert stored_mailings(other.pk) == {"running": 1}
    assert_stored_equals_recount()


def test_an_owners_mailings_deleted_at_once_leave_their_count():
    owner, other = make_user("mailing_user"), make_user("mailing_user")
    for status in ("created", "running", "running"):
        make_mailing(owner, status=status)
    make_mailing(other)
    Mailing.objects.filter(owner=owner).delete()
    assert stored_mailings(owner.pk) == {}
    assert stored_mailings(None) == {"created": 1}
    assert_stored_equals_recount()


def change_at_random(rng, owners):
    """One mailing change by one of the paths that make them."""
    owner = rng.choice(owners)
    mailings = Mailing.objects.filter(owner=owner)
    some = list(mailings.values_list("pk", flat=True))
    picked = rng.sample(some, min(len(some), rng.randrange(1, 4)))
    step = rng.randrange(7)
    if step < 2 or not picked:
        make_mailing(owner)
    elif step == 2:  # send now, then the run's end
        mark_sent_now(Mailing.objects.get(pk=picked[0]))
        if rng.random() < 0.5:
            finish_schedule(picked[0])
    elif step == 3:  # many at once
        status = rng.choice(Mailing.Status.values)
        Mailing.objects.filter(pk__in=picked).update(status=status)
    elif step == 4:  # a form's save
        mailing = Mailing.objects.get(pk=picked[0])
        mailing.status = rng.choice(Mailing.Status.values)
        mailing.save()
    elif step == 5:
        Mailing.objects.filter(pk__in=picked).delete()
    elif rng.random() < 0.3:  # every mailing of an owner deleted at once
        mailings.delete()


def test_a_random_mix_of_changes_equals_the_recount():
    rng = random.Random(42)  # noqa: S311 - test data, not security
    owners = [make_user("mailing_user") for _ in range(3)]
    seen = set()
    for step in range(200):
        change_at_random(rng, owners)
        seen |= set(stored_mailings(None))
        if step % 40 == 0:
            assert_stored_equals_recount()
    assert_stored_equals_recount()
    assert seen == set(Mailing.Status.values), "too few changes to prove anything"
    assert sum(stored_mailings(None).values()) > 5, "too few mailings"


def test_a_rolled_back_change_leaves_the_count_as_it_was():
    owner = make_user("mailing_user")
    make_mailing(owner)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_mailing(owner, status=RUNNING)
        assert stored_mailings(owner.pk) == {"created": 1, "running": 1}
        raise RuntimeError
    assert stored_mailings(owner.pk) == {"created": 1}


def test_the_rebuild_command_corrects_a_wrong_count():
    owner = make_user("mailing_user")
    make_mailing(owner)
    MailingCount.objects.create(owner_id=owner.pk, status="created", mailings=41)
    MailingCount.objects.create(owner_id=None, status="running", mailings=3)
    assert rebuild_mailing_counts() is True
    assert_stored_equals_recount()
    call_command("rebuild_address_counts")
    assert rebuild_mailing_counts() is False
    assert stored_mailings(None) == {"created": 1}


def test_the_figures_read_the_stored_counts():
    owner, other = make_user("mailing_user"), make_user("mailing_user")
    make_mailing(owner, status=RUNNING)
    make_mailing(other)
    make_mailing(other)
    assert service_figures(owner)["mailings_total"] == 1
    assert service_figures(make_user("manager"))["mailings_total"] == 3
    # Impossible numbers prove the figures are read, not counted.
    MailingCount.objects.create(owner_id=owner.pk, status="running", mailings=41)
    MailingCount.objects.create(owner_id=None, status="finished", mailings=100)
    figures = service_figures(owner)
    assert (figures["mailings_total"], figures["mailings_running"]) == (42, 42)
    figures = service_figures(None)
    assert (figures["mailings_total"], figures["mailings_running"]) == (103, 1)
    assert service_figures(make_user("manager"))["mailings_total"] == 103
    owner.is_active = False
    assert service_figures(owner)["mailings_total"] == 0


def test_the_figures_never_read_the_mailings_table():
    owner = make_user("mailing_user")
    make_mailing(owner, status=RUNNING)
    manager = make_user("manager")
    with CaptureQueriesContext(connection) as queries:
        for user in (owner, manager, None):
            service_figures(user)
    assert not [q["sql"] for q in queries if '"mailing_mailing"' in q["sql"]]


def test_the_sqlite_triggers_come_back_after_a_table_rebuild():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL alters tables in place")
    owner = make_user("mailing_user")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER mailing_mailing_counts_insert")
    make_mailing(owner)  # not counted: the trigger is gone
    assert stored_mailings(owner.pk) == {}
    assert ensure_sqlite_triggers() is True
    assert stored_mailings(owner.pk) == {"created": 1}
    make_mailing(owner)
    assert stored_mailings(owner.pk) == {"created": 2}
    assert ensure_sqlite_triggers() is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("order", list(permutations(range(2))))
def test_a_flush_in_any_table_order_leaves_no_count_behind(order):
    """The test runner's flush, in any table order, leaves no count; an owner
    reusing the id starts from zero."""
    owner = make_user("mailing_user")
    make_mailing(owner)
    models = (Mailing, MailingCount)
    # With the mailings' own lists (their foreign key checked at commit).
    tables = [models[n]._meta.db_table for n in order] + ["mailing_mailing_lists"]
    flush(tables)
    assert_stored_equals_recount()
    owner = make_user("mailing_user")
    make_mailing(owner)
    assert stored_mailings(owner.pk) == {"created": 1}
    assert_stored_equals_recount()


def test_the_appended_rows_fold_into_one_per_owner_and_status():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite updates one row; PostgreSQL appends and folds")
    owner, other, gone = (make_user("mailing_user") for _ in range(3))
    for _ in range(3):
        make_mailing(owner)
    make_mailing(gone).delete()
    make_mailing(other)
    with connection.cursor() as cursor:
        cursor.execute("SELECT mailing_mailing_counts_fold(%s)", [[owner.pk, gone.pk]])
    rows = MailingCount.objects.values_list("owner_id", "status", "mailings")
    folded = rows.filter(owner_id__in=[owner.pk, gone.pk])
    assert sorted(folded) == [(owner.pk, "created", 3)]
    assert list(rows.filter(owner_id=None)) == [(None, "created", 4)]
    assert rows.filter(owner_id=other.pk).count() >= 1
    assert_stored_equals_recount()
