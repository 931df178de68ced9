"""The REST API under integration loads: `make bench`.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python benchmarks/api.py

On the database of DATABASE_URL (migrated here; new owners each run), in-process
through Django's test client with a real Bearer token:

  bulk upsert   --clients clients in requests of 10,000 (POST /api/v1/clients/bulk/),
                clients/s, and its ratio to the CSV import's rate for as many rows
                in the same run (goal, issue 15: at least 0.5)
  attempts read --attempts rows written in SQL for the owner (PostgreSQL), then one
                page of GET /api/v1/attempts/ read --reads times: first, deep
                (keyset cursor) and one run's: p50 and p99 in ms
"""

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings.test")

CHUNK = 10_000


def bulk_rate(api, count: int) -> float:
    rows = [
        {"email": f"api{n}@example.org", "full_name": f"Reader {n}"}
        for n in range(count)
    ]
    started = time.perf_counter()
    for start in range(0, count, CHUNK):
        answer = api.post(
            "/api/v1/clients/bulk/",
            {"clients": rows[start : start + CHUNK]},
            format="json",
        )
        assert answer.status_code == 200, answer.content[:300]
        assert not answer.json()["errors"], answer.json()["errors"][:3]
    return count / (time.perf_counter() - started)


def csv_rate(owner, count: int) -> float:
    from tests.factories import import_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clients.csv"
        with path.open("w", newline="") as stream:
            writer = csv.writer(stream)
            for n in range(count):
                writer.writerow([f"csv{n}@example.org", f"Reader {n}", ""])
        started = time.perf_counter()
        report = import_file(owner, path)
        elapsed = time.perf_counter() - started
    assert report.created == count, report
    return count / elapsed


def fill_attempts(owner, total: int) -> tuple[int, int]:
    """`total` attempts of the owner's clients, written in SQL: runs x clients."""
    from django.db import connection
    from django.utils import timezone

    from mailing.models import Client, MailingRun
    from tests.factories import make_mailing

    clients = Client.objects.filter(owner=owner).count()
    mailing = make_mailing(owner)
    runs = [
        MailingRun.objects.create(
            mailing=mailing, kind="scheduled", slot=timezone.now(), status="finished"
        ).pk
        for _ in range(-(-total // clients))
    ]
    with connection.cursor() as cursor:
        for run in runs:
            cursor.execute(
                "INSERT INTO mailing_attempt (run_id, mailing_id, client_id, status,"
                " attempted_at, server_response, esp_message_id, tries)"
                " SELECT %s, %s, id, 'success', now(), '250 OK', '', 1"
                " FROM mailing_client WHERE owner_id = %s",
                [run, mailing.pk, owner.pk],
            )
        cursor.execute("ANALYZE mailing_attempt")
    return len(runs) * clients, runs[0]


def read_times(api, url: str, reads: int) -> list[float]:
    times = []
    for _ in range(reads):
        started = time.perf_counter()
        answer = api.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.content[:300]
    return times


def p(times: list[float], q: int) -> float:
    return statistics.quantiles(times, n=100)[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from accounts.models import ApiToken
    from mailing.api.throttling import TokenRateThrottle
    from mailing.api.tokens import issue_token
    from tests.factories import make_user

    call_command("migrate", verbosity=0)
    TokenRateThrottle.THROTTLE_RATES = {"api": None}  # measure the work, not the limit
    settings.ALLOWED_HOSTS = ["*"]
    tag = uuid.uuid4().hex[:8]
    owner = make_user(email=f"bench-api-{tag}@example.com")
    _token, raw = issue_token(owner, "bench", ApiToken.Scope.READ_WRITE)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    csv_owner = make_user(email=f"bench-csv-{tag}@example.com")
    api_rate = bulk_rate(api, args.clients)
    import_rate = csv_rate(csv_owner, args.clients)
    print(
        f"bulk upsert via API: {args.clients} clients in chunks of {CHUNK}: "
        f"{api_rate:,.0f} clients/s; CSV import: {import_rate:,.0f} clients/s; "
        f"ratio {api_rate / import_rate:.2f} (goal >= 0.5)"
    )

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        written, run = fill_attempts(owner, args.attempts)
        first = read_times(api, "/api/v1/attempts/?limit=100", args.reads)
        deep_url = api.get("/api/v1/attempts/?limit=100").json()["next"]
        for _ in range(50):  # 5,000 rows in
            deep_url = api.get(deep_url).json()["next"]
        deep = read_times(api, deep_url, args.reads)
        one_run = read_times(api, f"/api/v1/attempts/?run={run}&limit=100", args.reads)
        print(
            f"attempts page of 100 at {written:,} attempts, {args.reads} reads: "
            f"first page p50 {p(first, 50):.1f} ms p99 {p(first, 99):.1f} ms; "
            f"after 5,000 rows p50 {p(deep, 50):.1f} ms p99 {p(deep, 99):.1f} ms; "
            f"one run's (?run=) p50 {p(one_run, 50):.1f} ms "
            f"p99 {p(one_run, 99):.1f} ms"
        )
    else:
        print("attempts read: skipped (needs PostgreSQL: DATABASE_URL)")


if __name__ == "__main__":
    main()
