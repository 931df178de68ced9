"""The Attempts export streams: rows go out a keyset page at a time, so its memory
stays flat from 10,000 to 100,000 rows; every row is there once, only the
viewer's, newest first, and cells that start a formula are escaped."""

from __future__ import annotations

import csv
import io
import tempfile
import tracemalloc
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from mailing import admin_views
from mailing.models import Attempt, Client, MailingRun
from tests.factories import make_client, make_mailing, make_user

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="bulk rows by PostgreSQL's SQL"
    ),
]

CLIENTS = 1000


def add_runs(mailing, clients: int, runs: int, first: int) -> None:
    """`runs` finished runs of the mailing to the first `clients` clients of its
    owner, one attempt each, written by one INSERT ... SELECT."""
    now = timezone.now()
    made = MailingRun.objects.bulk_create(
        MailingRun(
            mailing=mailing,
            kind="scheduled",
            slot=now - timedelta(hours=first + n),
            status="finished",
        )
        for n in range(runs)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO mailing_attempt (run_id, mailing_id, client_id, status, "
            "attempted_at, server_response, esp_message_id, tries) "
            "SELECT r.id, %s, c.id, 'success', "
            "  %s - c.id * interval '1 second' - r.id * interval '1 hour', "
            "  '250 ok', '', 1 "
            "FROM unnest(%s::bigint[]) AS r(id), "
            "  (SELECT id FROM mailing_client WHERE owner_id = %s "
            "   ORDER BY id LIMIT %s) AS c",
            [mailing.pk, now, [run.pk for run in made], mailing.owner_id, clients],
        )


@pytest.fixture
def owner():
    user = make_user()
    Client.objects.bulk_create(
        Client(owner=user, email=f"reader{n}@example.org") for n in range(CLIENTS)
    )
    return user


def export(http, form: str = "csv", **query):
    """(the response, the peak of memory allocated while it was written). The
    chunks go to a file as they come, so the body read here is not in the peak."""
    with tempfile.TemporaryFile() as received:
        tracemalloc.start()
        try:
            response = http.get(
                reverse("mailing_attempt:list"), {"export": form, **query}
            )
            for chunk in response.streaming_content:
                received.write(chunk)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        received.seek(0)
        body = received.read()
    return response, body, peak


def flat_memory(http, owner, runs: tuple[int, int]) -> None:
    """Export after runs[0] runs of the owner's 1,000 clients, then after
    runs[1]: every row once, and memory about the same for many times the rows."""
    mailing = make_mailing(owner)
    add_runs(mailing, CLIENTS, runs[0], first=0)
    http.force_login(owner)

    _response, small, small_peak = export(http)
    add_runs(mailing, CLIENTS, runs[1] - runs[0], first=runs[0])
    response, body, peak = export(http)

    assert response.streaming
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert len(small.splitlines()) == runs[0] * CLIENTS + 1
    assert len(rows) == runs[1] * CLIENTS + 1
    assert len({tuple(row) for row in rows[1:]}) == runs[1] * CLIENTS  # once each
    # It was the whole listing in memory: ten times the rows, ten times the peak.
    assert peak < 1.5 * small_peak, (small_peak, peak)


@pytest.mark.slow
def test_the_csv_export_streams_in_flat_memory(client, owner, monkeypatch):
    monkeypatch.setattr(admin_views, "EXPORT_PAGE", 100)  # the shape, sooner
    flat_memory(client, owner, (1, 10))


@pytest.mark.stress
def test_the_csv_export_streams_in_flat_memory_to_100k_rows(client, owner):
    flat_memory(client, owner, (10, 100))


def test_the_export_is_the_viewers_own_newest_first_and_formula_safe(client, owner):
    mailing = make_mailing(owner)
    add_runs(mailing, 30, 3, first=0)  # 90 rows: pages of 2,000 hold them
    other = make_user()
    stranger = make_client(other, email="stranger@example.org")
    make_mailing(other, clients=[stranger])
    Attempt.objects.filter(mailing=mailing).update(server_response="=HYPERLINK(1)")
    client.force_login(owner)

    response, body, _peak = export(client)

    rows = list(csv.reader(io.StringIO(body.decode())))[1:]
    assert len(rows) == 90
    assert "stranger@example.org" not in body.decode()
    assert {row[4] for row in rows} == {"'=HYPERLINK(1)"}
    times = [row[3] for row in rows]
    assert times == sorted(times, reverse=True)


def test_the_export_follows_the_listings_filter(client, owner):
    mailing = make_mailing(owner)
    add_runs(mailing, 10, 2, first=0)
    run = mailing.runs.order_by("pk").first()
    client.force_login(owner)

    _response, body, _peak = export(client, run=run.pk)

    assert len(body.decode().splitlines()) == 10 + 1


def test_the_xlsx_export_has_every_row(client, owner):
    mailing = make_mailing(owner)
    add_runs(mailing, 50, 3, first=0)
    client.force_login(owner)

    response, body, _peak = export(client, "xlsx")

    assert response["Content-Type"].endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    assert sum(1 for _ in sheet.iter_rows()) == 150 + 1
