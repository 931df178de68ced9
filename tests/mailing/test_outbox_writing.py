"""A run's outbox written chunk by chunk of client ids (issue 12): one INSERT per
chunk, nobody twice, opted-out and suppressed left out, the counts adding up, and
a writer that dies midway resumed by the sweeper from its cursor."""

from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mailing import audiences, services
from mailing.models import Attempt, MailingRun, Subscription
from mailing.sending import outbox_writing
from mailing.sending.outbox import claim_batch
from tests.factories import make_client, make_list, make_mailing, make_user

pytestmark = pytest.mark.django_db

CHUNK = 3


@pytest.fixture(autouse=True)
def small_chunks(settings):
    settings.OUTBOX_CHUNK_IDS = CHUNK


def mailing_to(owner, clients, **fields):
    mailing = make_mailing(owner, **fields)
    mailing.lists.set([make_list(owner, clients=clients)])
    return mailing


def members(owner, count: int, opted_out=None, suppressed=None) -> list:
    """`count` clients; the one at `opted_out` unsubscribed from everything, the
    one at `suppressed` suppressed."""
    clients = [make_client(owner) for _ in range(count)]
    if opted_out is not None:
        clients[opted_out].unsubscribed_at = timezone.now()
        clients[opted_out].save()
    if suppressed is not None:
        clients[suppressed].suppressed_reason = "550 no such user"
        clients[suppressed].save()
    return clients


def outbox_inserts(queries) -> int:
    table = Attempt._meta.db_table
    return sum(
        1
        for q in queries
        if q["sql"].lstrip().startswith("INSERT INTO") and table in q["sql"][:40]
    )


def open_without_writing(mailing) -> MailingRun:
    return services.open_run(
        mailing, MailingRun.Kind.MANUAL, timezone.now(), write=False
    )


def test_the_outbox_is_one_insert_per_chunk_with_everyone_once():
    owner = make_user()
    clients = members(owner, 10, opted_out=1, suppressed=7)
    mailing = mailing_to(owner, clients)
    chunks = -(-(clients[-1].pk - clients[0].pk + 1) // CHUNK)

    with CaptureQueriesContext(connection) as queries:
        run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())

    written = list(run.attempts.values_list("client_id", flat=True))
    assert sorted(written) == sorted(
        c.pk for n, c in enumerate(clients) if n not in (1, 7)
    )
    assert (run.total, run.skipped_count, run.outbox_through) == (8, 2, None)
    assert outbox_inserts(queries) <= chunks + 1  # a range may straddle the start


def test_ranges_of_other_owners_clients_are_skipped_not_walked():
    owner, other = make_user(), make_user()
    first = members(owner, 2)
    members(other, 5 * CHUNK)  # a long stretch of ids that are not the owner's
    last = members(owner, 2)
    mailing = mailing_to(owner, first + last)

    with CaptureQueriesContext(connection) as queries:
        run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())

    assert run.total == 4
    assert outbox_inserts(queries) <= 4  # not one per stretch of the other's ids


def test_a_run_being_written_is_not_finished_and_its_first_rows_are_claimable():
    owner = make_user()
    clients = members(owner, 3 * CHUNK)
    run = open_without_writing(mailing_to(owner, clients))
    chunks = outbox_writing.write_outbox(run.pk)

    assert next(chunks) is True  # one chunk in, more to come
    claimed = claim_batch(run.pk, 100, timezone.now())
    assert claimed, "the first chunk's rows are sent before the last is in"
    assert not services.finish_run(run.pk, timezone.now())
    run.refresh_from_db()
    assert run.status in (MailingRun.Status.PENDING, MailingRun.Status.RUNNING)
    assert run.outbox_through is not None


def test_a_writer_that_died_midway_is_resumed_by_the_sweeper_without_duplicates():
    owner = make_user()
    clients = members(owner, 4 * CHUNK, suppressed=5)
    run = open_without_writing(mailing_to(owner, clients))
    insert = audiences.insert_attempts
    calls = Counter()

    def dies_on_the_second_chunk(*args):
        calls["insert"] += 1
        if calls["insert"] == 2:
            insert(*args)  # its rows are written, then the writer dies
            raise ConnectionError("writer killed")
        return insert(*args)

    with (
        mock.patch.object(outbox_writing, "insert_attempts", dies_on_the_second_chunk),
        pytest.raises(ConnectionError),
    ):
        outbox_writing.write_all(run.pk)

    run.refresh_from_db()
    half = run.attempts.count()
    assert 0 < half < len(clients) - 1, "only the first chunk stayed"
    assert run.total == half
    later = timezone.now() + timedelta(hours=1)
    report = services.sweep_stalled_runs(later)

    run.refresh_from_db()
    written = Counter(run.attempts.values_list("client_id", flat=True))
    assert report["requeued"] == 1
    assert set(written) == {c.pk for c in clients} - {clients[5].pk}
    assert max(written.values()) == 1
    assert (run.total, run.skipped_count, run.outbox_through) == (
        len(clients) - 1,
        1,
        None,
    )


def test_a_second_writer_writes_nothing_twice():
    owner = make_user()
    run = open_without_writing(mailing_to(owner, members(owner, 2 * CHUNK + 1)))

    outbox_writing.write_all(run.pk)
    outbox_writing.write_all(run.pk)  # e.g. the sweeper's, late

    run.refresh_from_db()
    assert run.attempts.count() == run.total == 2 * CHUNK + 1


def test_a_run_cancelled_while_being_written_gets_no_more_rows():
    owner = make_user()
    run = open_without_writing(mailing_to(owner, members(owner, 3 * CHUNK)))
    chunks = outbox_writing.write_outbox(run.pk)
    next(chunks)
    first = run.attempts.count()
    MailingRun.objects.filter(pk=run.pk).update(status=MailingRun.Status.CANCELLED)

    list(chunks)

    run.refresh_from_db()
    assert run.attempts.count() == first
    assert run.outbox_through is None


# --- The audience's count --------------------------------------------------------


def test_the_fast_count_agrees_with_the_audience_query():
    owner = make_user()
    clients = members(owner, 6, opted_out=0, suppressed=1)
    news = make_list(owner, clients=clients[:4])
    offers = make_list(owner, clients=clients[2:])
    Subscription.objects.filter(client=clients[5], mailing_list=offers).update(
        status=Subscription.Status.UNSUBSCRIBED
    )
    for list_ids in ([news.pk], [offers.pk], [news.pk, offers.pk], []):
        mailing = make_mailing(owner)
        mailing.lists.set(list_ids)
        expected = audiences.recipients(mailing).count()

        assert audiences.recipient_count(mailing) == expected, list_ids

    assert audiences.count_recipients(owner.pk, [news.pk]) == 2
    assert audiences.count_recipients(owner.pk, [news.pk, offers.pk]) == 3
    assert audiences.count_recipients(owner.pk, [], all_clients=True) == 4


def test_one_lists_count_reads_the_stored_count_not_its_members():
    owner = make_user()
    news = make_list(owner, clients=members(owner, 3))

    with CaptureQueriesContext(connection) as queries:
        count = audiences.count_recipients(owner.pk, [news.pk])

    assert count == 3
    assert not any(
        Subscription._meta.db_table in q["sql"].split("WHERE")[0]
        and "COUNT" in q["sql"].upper().split("FROM")[0]
        for q in queries
    ), "no count over the list's subscriptions"


@pytest.mark.django_db(transaction=True)
def test_send_now_writes_one_chunk_in_the_request_and_queues_the_rest():
    owner = make_user()
    mailing = mailing_to(owner, members(owner, 10))

    with (
        mock.patch("mailing.tasks.write_outbox") as rest,
        mock.patch.object(services, "enqueue_run"),
    ):
        run = services.send_now(mailing, owner)

    assert 0 < run.attempts.count() <= CHUNK
    assert run.outbox_through is not None  # the rest is left to the task
    rest.assert_called_once_with(run.pk)
    outbox_writing.write_all(run.pk)  # what the task does
    assert run.attempts.count() == 10
