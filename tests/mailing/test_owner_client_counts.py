"""Each owner's number of clients (issue 17): kept by the database in the
transaction of every client change, whatever path makes it; rebuilt by the
address counts' command; read by the owner's figures."""

import random
from itertools import permutations

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction

from mailing.client_writes import write_clients
from mailing.models import Client, OwnerClientCount
from mailing.owner_client_counts import (
    rebuild_owner_counts,
    recounted,
    stored_clients,
    stored_counts,
)
from mailing.owner_count_triggers import ensure_sqlite_triggers
from mailing.stats import service_figures
from tests.factories import make_client, make_user
from tests.mailing.test_address_counts import change_at_random

pytestmark = pytest.mark.django_db


def assert_stored_equals_recount():
    assert stored_counts() == recounted()


def test_each_way_of_writing_clients_is_counted_for_its_owner():
    owner, other = make_user("mailing_user"), make_user("mailing_user")
    make_client(owner)
    assert stored_clients(owner.pk) == 1
    Client.objects.bulk_create(
        [Client(owner=owner, email=f"b{n}@example.org") for n in range(5)]
    )
    write_clients(other.pk, [{"email": f"w{n}@example.org"} for n in range(7)])
    assert (stored_clients(owner.pk), stored_clients(other.pk)) == (6, 7)
    assert_stored_equals_recount()
    Client.objects.filter(owner=owner, email__startswith="b").delete()
    Client.objects.filter(owner=other).first().delete()
    assert (stored_clients(owner.pk), stored_clients(other.pk)) == (1, 6)
    assert_stored_equals_recount()


def test_a_client_given_to_another_owner_moves_its_count():
    owner, other = make_user("mailing_user"), make_user("mailing_user")
    clients = [make_client(owner) for _ in range(3)]
    Client.objects.filter(pk=clients[0].pk).update(owner=other)
    clients[1].owner = other
    clients[1].save()
    Client.objects.filter(pk=clients[2].pk).update(full_name="Renamed")
    assert (stored_clients(owner.pk), stored_clients(other.pk)) == (1, 2)
    assert_stored_equals_recount()


def test_a_deleted_owners_clients_leave_their_count():
    owner = make_user("mailing_user")
    for _ in range(4):
        make_client(owner)
    owner_id = owner.pk
    owner.delete()
    assert stored_clients(owner_id) == 0
    assert_stored_equals_recount()


def test_a_random_mix_of_changes_equals_the_recount():
    rng = random.Random(39)  # noqa: S311 - test data, not security
    owners = [make_user("mailing_user") for _ in range(3)]
    for step in range(300):
        change_at_random(rng, owners)
        if step % 50 == 0:
            assert_stored_equals_recount()
    assert_stored_equals_recount()
    assert sum(stored_counts().values()) > 5, "too few clients to prove anything"


def test_a_rolled_back_change_leaves_the_count_as_it_was():
    owner = make_user("mailing_user")
    make_client(owner)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_client(owner)
        assert stored_clients(owner.pk) == 2
        raise RuntimeError
    assert stored_clients(owner.pk) == 1


def test_the_rebuild_command_corrects_a_wrong_count():
    owner = make_user("mailing_user")
    make_client(owner)
    OwnerClientCount.objects.create(owner_id=owner.pk, clients=41)
    OwnerClientCount.objects.create(owner_id=owner.pk + 1000, clients=3)
    assert rebuild_owner_counts() is True
    assert_stored_equals_recount()
    call_command("rebuild_address_counts")
    assert rebuild_owner_counts() is False
    assert stored_clients(owner.pk) == 1


def test_the_owners_figures_read_the_stored_count():
    owner = make_user("mailing_user")
    make_client(owner)
    make_client(make_user("mailing_user"))
    assert service_figures(owner)["unique_clients"] == 1
    # An impossible number proves the figure is read, not counted.
    OwnerClientCount.objects.create(owner_id=owner.pk, clients=43209)
    assert service_figures(owner)["unique_clients"] == 43210
    owner.is_active = False
    assert service_figures(owner)["unique_clients"] == 0


def test_the_sqlite_triggers_come_back_after_a_table_rebuild():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL alters tables in place")
    owner = make_user("mailing_user")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER mailing_client_owners_insert")
    make_client(owner)  # not counted: the trigger is gone
    assert stored_clients(owner.pk) == 0
    assert ensure_sqlite_triggers() is True
    assert stored_clients(owner.pk) == 1
    make_client(owner)
    assert stored_clients(owner.pk) == 2
    assert ensure_sqlite_triggers() is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("order", list(permutations(range(2))))
def test_a_flush_in_any_table_order_leaves_no_count_behind(order):
    """The test runner's flush (TRUNCATE on PostgreSQL, DELETE table by table on
    SQLite, in a set's order) leaves no count, with no post_migrate after it (a
    serialized-rollback test's flush sends none); an owner reusing the id
    starts from zero."""
    owner = make_user("mailing_user")
    make_client(owner)
    models = (Client, OwnerClientCount)
    tables = [models[n]._meta.db_table for n in order]
    flush(tables)
    assert_stored_equals_recount()
    assert stored_clients(owner.pk) == 0
    make_client(owner)
    assert stored_clients(owner.pk) == 1
    assert_stored_equals_recount()


def flush(tables: list[str]) -> None:
    """What the test runner's flush does to `tables`, in their order."""
    cascade = connection.vendor != "sqlite"
    connection.ops.execute_sql_flush(
        connection.ops.sql_flush(
            no_style(), tables, reset_sequences=True, allow_cascade=cascade
        )
    )


def test_the_appended_rows_fold_into_one_per_owner_with_the_same_sum():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite updates one row; PostgreSQL appends and folds")
    owner, other, gone = (make_user("mailing_user") for _ in range(3))
    for _ in range(3):
        make_client(owner)
    make_client(gone).delete()
    make_client(other)
    with connection.cursor() as cursor:
        cursor.execute("SELECT mailing_client_owners_fold(%s)", [[owner.pk, gone.pk]])
    rows = OwnerClientCount.objects.values_list("owner_id", "clients")
    assert sorted(rows.filter(owner_id__in=[owner.pk, gone.pk])) == [(owner.pk, 3)]
    assert rows.filter(owner_id=other.pk).count() >= 1
    assert_stored_equals_recount()
