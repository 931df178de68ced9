"""Issue 17 stage 2: reports read stored counts, the Attempts listing pages by keyset.

The report pages never count attempts (their figures come from the runs' counters
and the event rollups), the listing never counts at all, and its pages, walked by
their cursors both ways, show every row once in the listing's order.
"""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mailing.events import Happening, record_event
from mailing.lookups import IdArray, ids_of
from mailing.models import Attempt, Client, MailingRun
from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db
LISTING = "/admin/mailing/attempts/"


def sent_run(mailing, clients, *, sent=None, at=None):
    """A finished run whose rows were all sent at `at`, counted as the outbox does."""
    at = at or timezone.now() - timedelta(hours=3)
    run = MailingRun.objects.create(
        mailing=mailing,
        kind=MailingRun.Kind.MANUAL,
        slot=at,
        status=MailingRun.Status.FINISHED,
        total=len(clients),
        sent_count=len(clients) if sent is None else sent,
        started_at=at,
    )
    Attempt.objects.bulk_create(
        Attempt(run=run, mailing=mailing, client=c, status="success", attempted_at=at)
        for c in clients
    )
    return run


def walk(client, direction: str, url: str, query=None):
    """The pages met following `direction` links ("older" / "newer"), and the last
    page's address."""
    pages = []
    while True:
        response = client.get(url, query)
        query = None
        assert response.status_code == 200
        pages.append([a.pk for a in response.context["object_list"]])
        found = re.search(
            rf'href="([^"]+)" data-testid="{direction}"', response.content.decode()
        )
        if not found:
            return pages, response.request["PATH_INFO"] + "?" + response.request[
                "QUERY_STRING"
            ]
        url = found.group(1).replace("&amp;", "&")


@pytest.fixture
def listing_rows():
    owner = make_user(language="en")
    clients = [make_client(owner) for _ in range(45)]
    mailing = make_mailing(owner)
    run = sent_run(mailing, clients)
    rows = list(run.attempts.order_by("pk"))
    # Ties on the time (ordered by id), three rows never attempted (NULL: first).
    base = timezone.now() - timedelta(days=1)
    for index, attempt in enumerate(rows):
        attempt.attempted_at = (
            None if index < 3 else base + timedelta(minutes=index // 4)
        )
    Attempt.objects.bulk_update(rows, ["attempted_at"])
    expected = list(
        Attempt.objects.filter(run=run)
        # Untried rows first, as PostgreSQL sorts NULL in a descending order
        # (SQLite would put them last unless told).
        .order_by(F("attempted_at").desc(nulls_first=True), "-id")
        .values_list("pk", flat=True)
    )
    return owner, expected


def test_keyset_pages_show_every_row_once_in_order_both_ways(client, listing_rows):
    owner, expected = listing_rows
    client.force_login(owner)

    older, last = walk(client, "older", LISTING, {"per_page": 20})
    assert [len(page) for page in older] == [20, 20, 5]
    assert sum(older, []) == expected

    newer, _first = walk(client, "newer", last)
    assert [len(page) for page in newer] == [5, 20, 20]
    assert sum(reversed(newer), []) == expected


def test_pages_cross_from_untried_rows_to_tried_ones_both_ways(listing_rows):
    # The untried rows (first, by id) and the tried ones (by time) are read apart:
    # pages of two put the boundary inside a page, both ways.
    from mailing.keyset import KeysetPaginator, key_of

    _owner, expected = listing_rows
    paginator = KeysetPaginator(Attempt.objects.all(), 2)
    pages, after = [], None
    while True:
        page = paginator.page(after, None)
        pages.append([a.pk for a in page])
        if not page.has_older:
            break
        after = key_of(page.object_list[-1])
    assert pages[1] == expected[2:4] and sum(pages, []) == expected

    back, before = [], key_of(page.object_list[0])
    while True:
        page = paginator.page(None, before)
        back.append([a.pk for a in page])
        if not page.has_newer:
            break
        before = key_of(page.object_list[0])
    assert sum(reversed(back), []) + pages[-1] == expected


def test_the_listing_counts_nothing_and_a_bad_cursor_is_the_first_page(
    client, listing_rows
):
    owner, expected = listing_rows
    client.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LISTING, {"after": "yesterday_x"})
    assert [a.pk for a in response.context["object_list"]] == expected[:45]
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


def test_search_finds_recipients_by_the_start_of_their_address_within_the_owner(
    client,
):
    owner, other = make_user(), make_user()
    ann = make_client(owner, email="Ann.Lee@example.org")
    bob = make_client(owner, email="bob@example.org")
    foreign_ann = make_client(other, email="ann.lee@example.org")
    sent_run(make_mailing(owner), [ann, bob])
    sent_run(make_mailing(other), [foreign_ann])
    client.force_login(owner)

    def found(q):
        response = client.get(LISTING, {"q": q})
        return sorted(a.client.email for a in response.context["object_list"])

    assert found("ann.") == ["Ann.Lee@example.org"]
    assert found("ANN.LEE@EXAMPLE.ORG") == ["Ann.Lee@example.org"]
    assert found("example") == []  # the start of the address, not anywhere in it
    assert found("b") == ["bob@example.org"]


def test_a_search_sends_its_recipients_ids_once_a_page(client):
    owner, other = make_user(), make_user()
    readers = [make_client(owner, email=f"reader{n}@example.org") for n in range(3)]
    foreign = make_client(other, email="reader9@example.org")
    sent_run(make_mailing(owner), [*readers, make_client(owner, email="x@example.org")])
    sent_run(make_mailing(other), [foreign])
    client.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LISTING, {"q": "reader"})
    shown = [a.pk for a in response.context["object_list"]]
    # The listing's order: newest first, then by id (the rows share a time).
    mine = Attempt.objects.filter(client__in=readers).order_by("-attempted_at", "-id")
    assert shown == list(mine.values_list("pk", flat=True))
    # Thousands of ids take longer to plan than the page to read: the untried
    # rows are looked for without them (none here), the rows loaded by id.
    listed = ('"client_id" = ANY', '"client_id" IN (')
    assert len([q for q in queries if any(text in q["sql"] for text in listed)]) == 1


def rates_mailing(complaints: int):
    owner = make_user(language="en")
    clients = [make_client(owner) for _ in range(10)]
    mailing = make_mailing(owner, name="Rates")
    # A thousand sent by the counters; events arrive for some of the ten rows.
    run = sent_run(mailing, clients, sent=1000)
    rows = list(run.attempts.order_by("pk"))
    for attempt in rows[:complaints]:
        record_event(attempt.pk, Happening(kind="complained", source="postmark"))
    record_event(rows[-1].pk, Happening(kind="hard_bounce", source="postmark"))
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0"
    for attempt in rows[5:7]:
        record_event(
            attempt.pk,
            Happening(kind="opened", source="pixel", user_agent=ua, ip="203.0.113.9"),
        )
    return owner, mailing


def test_the_report_shows_rates_from_the_rollups_and_warns_over_the_complaint_limit(
    client,
):
    owner, mailing = rates_mailing(complaints=4)
    client.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("mailing_mailing:report", args=[mailing.pk]))
    html = html.content.decode()
    assert 'data-testid="complaints">4<' in html
    assert re.search(r'data-testid="complaint-rate">0[.,]4%<', html)
    assert 'data-testid="complaints-warning"' in html
    assert 'data-testid="bounces">1<' in html
    assert 'data-testid="opens">2<' in html
    assert 'data-testid="succeeded">999<' in html  # sent, less the bounce
    # No query aggregates over the attempts table: their sums are the counters'.
    over_attempts = [
        q["sql"]
        for q in queries
        if re.search(r'(SUM|COUNT)\(.*FROM "mailing_attempt"', q["sql"], re.S)
        and "unknown" not in q["sql"]
    ]
    assert over_attempts == []


def test_no_warning_under_the_complaint_limit(client):
    owner, mailing = rates_mailing(complaints=2)
    client.force_login(owner)
    html = client.get(reverse("mailing_mailing:report", args=[mailing.pk]))
    assert re.search(r'data-testid="complaint-rate">0[.,]2%<', html.content.decode())
    assert 'data-testid="complaints-warning"' not in html.content.decode()


def test_reports_index_and_dashboard_never_read_the_attempts_table(client):
    owner, mailing = rates_mailing(complaints=1)
    client.force_login(owner)
    for url in (reverse("mailing_reports:index"), "/admin/"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert not [q for q in queries if '"mailing_attempt"' in q["sql"]], url
    index = client.get(reverse("mailing_reports:index")).content.decode()
    assert re.search(r"<td>1000</td><td>0</td>", index)


@pytest.mark.postgres
def test_any_of_is_one_array_parameter_and_an_empty_list_matches_nothing():
    owner = make_user()
    run = sent_run(make_mailing(owner), [make_client(owner) for _ in range(3)])
    ids = list(run.attempts.values_list("client_id", flat=True))
    query = Attempt.objects.filter(client_id__any_of=ids[:2])
    sql, params = query.query.sql_with_params()
    assert "= ANY(%s::bigint[])" in sql and len(params) == 1
    assert sorted(query.values_list("client_id", flat=True)) == sorted(ids[:2])
    assert not Attempt.objects.filter(client_id__any_of=[]).exists()


def test_ids_of_reads_the_ids_as_one_value_that_any_of_takes():
    owner = make_user()
    run = sent_run(make_mailing(owner), [make_client(owner) for _ in range(3)])
    mine = Client.objects.filter(owner=owner)
    ids = ids_of(mine)
    assert len(ids) == 3 and sorted(ids) == sorted(mine.values_list("pk", flat=True))
    found = Attempt.objects.filter(client_id__any_of=ids)
    assert sorted(found.values_list("pk", flat=True)) == sorted(
        run.attempts.values_list("pk", flat=True)
    )
    if connection.vendor == "postgresql":
        # One value from the database, one parameter to it.
        assert isinstance(ids, IdArray)
        assert found.query.sql_with_params()[1] == (ids.text,)
    for none in (Client.objects.none(), Client.objects.filter(owner=make_user())):
        assert len(ids_of(none)) == 0
        assert not Attempt.objects.filter(client_id__any_of=ids_of(none)).exists()


def test_the_managers_reports_index_names_owners_without_joining_them_to_the_sums(
    client,
):
    ann = make_user(email="ann@example.com")
    bob = make_user(email="bob@example.com")
    sent_run(make_mailing(ann, name="Ann's"), [make_client(ann)])
    sent_run(make_mailing(bob, name="Bob's"), [make_client(bob)])
    client.force_login(make_user("manager", language="en"))
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("mailing_reports:index")).content.decode()
    assert "ann@example.com" in html and "bob@example.com" in html
    sums = [q["sql"] for q in queries if 'SUM("mailing_mailingrun"' in q["sql"]]
    # Joined there, the owners went into the GROUP BY: the whole user table hashed.
    assert len(sums) == 1 and '"accounts_user"' not in sums[0]
    owners = [
        q["sql"]
        for q in queries
        if q["sql"].startswith(
            'SELECT "accounts_user"."id", "accounts_user"."email" FROM'
        )
    ]
    assert owners, "the owners are read by their ids"


def test_an_owners_reports_index_reads_no_owner_beside_the_sums(client):
    owner = make_user()
    sent_run(make_mailing(owner), [make_client(owner)])
    client.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("mailing_reports:index"))
    sums = [q["sql"] for q in queries if 'SUM("mailing_mailingrun"' in q["sql"]]
    assert len(sums) == 1 and '"accounts_user"' not in sums[0]
