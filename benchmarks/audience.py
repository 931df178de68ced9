"""Audiences at scale (issue 12): `make bench`.

    DATABASE_URL=postgres://... python benchmarks/audience.py [--scale 1000000]

On the database of DATABASE_URL (PostgreSQL; migrated here), one new owner gets
--scale clients in one list (written with INSERT ... SELECT generate_series, not
the import: the chunked import is issue 12's stage 3) and a mailing to that list.
Prints: the time to open a run over the list (outbox rows made, how many INSERT
statements that took: goal one per chunk, not one per client, and how soon the
first chunk was committed, when consumers may start sending); the mailing
form's and the lists page's server time at --scale against a 1,000-client owner
(goal: ratio under 2); the audience's count (goal: under 1 s); a segment's count
(tag and attribute conditions, answered by the GIN indexes; goal: under 1 s; `--only
segments` runs this and the form's ratio alone). AUDIENCE_SCALE sets
--scale's default (100000 is a quick try).

First, the import (mailing.import_jobs, the Huey task's body run here): a CSV of
--scale rows into a list, with time and peak RSS at 100,000 rows and at the end
(goal: 1,000,000 rows under 2 minutes, memory under 300 MB and flat). `--only
import` or `--only audience` runs one half.
"""

import argparse
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings.test")
SMALL = 1000
CHECKPOINT = 100_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cpu_seconds() -> float:
    """User + system time of this process: what the import costs here, whatever
    else the machine is doing (the database's own work is not in it)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def database_cpu_seconds() -> float | None:
    """CPU time of this connection's PostgreSQL backend, when the server runs on
    this machine (/proc): with the process's own, the import's whole cost, apart
    from whatever else the machine is doing."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write("email;имя;комментарий\n")
        for n in range(count):
            stream.write(f"import{n}@example.org;Кошкин {n};строка {n}\n")


def measure_import(scale: int) -> None:
    """Import `scale` CSV rows into a list, chunk by chunk, as the task does."""
    import tempfile

    from django.test import override_settings

    from mailing import import_jobs
    from mailing.imports import stash_path
    from mailing.models import MailingList
    from tests.factories import make_user

    owner = make_user(email=f"bench-{uuid.uuid4().hex}@example.com")
    target = MailingList.objects.create(owner=owner, name="Imported")
    with (
        tempfile.TemporaryDirectory() as folder,
        override_settings(CLIENT_IMPORT_DIR=folder),
    ):
        token = uuid.uuid4().hex
        write_csv(stash_path(token), scale)
        print(f"import: {scale:,} CSV rows written, peak RSS {peak_rss_mb():.0f} MB")
        job = import_jobs.ImportJob.objects.create(
            owner=owner, file_token=token, mailing_list=target
        )
        commit_chunk = import_jobs._commit_chunk
        database_before = database_cpu_seconds()
        started = time.perf_counter()

        def reporting(job, chunk, layout):
            done = commit_chunk(job, chunk, layout)
            if done.rows_done % CHECKPOINT < len(chunk) or done.rows_done > scale:
                print(
                    f"import: {done.rows_done:,} rows in "
                    f"{time.perf_counter() - started:.1f} s, peak RSS "
                    f"{peak_rss_mb():.0f} MB"
                )
            return done

        import_jobs._commit_chunk = reporting
        try:
            job = import_jobs.run_import(job.pk)
        finally:
            import_jobs._commit_chunk = commit_chunk
    seconds = time.perf_counter() - started
    database_after = database_cpu_seconds()
    if database_before is not None and database_after is not None:
        print(
            f"import: database backend CPU {database_after - database_before:.0f} s, "
            f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
    print(
        f"import of {scale:,} rows: {seconds:.1f} s ({job.status}, {job.created:,} "
        f"created, {job.rejected} rejected), peak RSS {peak_rss_mb():.0f} MB, "
        f"this process's CPU {cpu_seconds():.0f} s "
        "(goal at 1M: < 120 s, < 300 MB, flat from 100k)"
    )
    drop(owner)


def owner_with_clients(count: int):
    """A new owner, `count` clients subscribed to one list, a mailing to it."""
    from django.db import connection

    from mailing.models import Client, MailingList, Subscription
    from tests.factories import make_mailing, make_user

    owner = make_user(email=f"bench-{uuid.uuid4().hex}@example.com")
    news = MailingList.objects.create(owner=owner, name="Everyone")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Client._meta.db_table}
                (owner_id, email, full_name, comment, time_zone, created_at,
                 suppressed_reason)
            SELECT %s, 'r' || n || '@example.org', 'Reader ' || n, '', '', now(), ''
            FROM generate_series(1, %s) n""",  # nosec B608 - table from the model
            [owner.pk, count],
        )
        cursor.execute(
            f"""INSERT INTO {Subscription._meta.db_table}
                (client_id, mailing_list_id, status, changed_at)
            SELECT id, %s, 'subscribed', now() FROM {Client._meta.db_table}
            WHERE owner_id = %s""",  # nosec B608 - tables from the models
            [news.pk, owner.pk],
        )
        cursor.execute("ANALYZE")
    mailing = make_mailing(owner)
    mailing.lists.set([news])
    return owner, mailing


def timed(function, repeat: int = 3) -> float:
    """The best of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def page_times(owner, mailing) -> tuple[float, float]:
    from django.test import Client as Browser
    from django.urls import reverse

    browser = Browser()
    browser.force_login(owner)
    edit = reverse("mailing_mailing:edit", args=[mailing.pk])
    lists = reverse("mailing_mailinglist:list")

    def get(url):
        response = browser.get(url)
        assert response.status_code == 200, response.status_code

    return timed(lambda: get(edit)), timed(lambda: get(lists))


def open_run_over(mailing) -> tuple[float, int, int, float]:
    """(seconds to the whole outbox, rows, INSERT statements, seconds until the
    first chunk is committed: when sending may start)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from mailing.models import MailingRun
    from mailing.sending.outbox_writing import write_outbox
    from mailing.services import open_run

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        run = open_run(mailing, MailingRun.Kind.MANUAL, timezone.now(), write=False)
        chunks = write_outbox(run.pk)
        next(chunks, None)
        first = time.perf_counter() - started
        for _more in chunks:
            pass
        seconds = time.perf_counter() - started
    run.refresh_from_db()
    inserts = sum(
        1 for q in queries if "INSERT INTO" in q["sql"] and "attempt" in q["sql"]
    )
    return seconds, run.total, inserts, first


def drop(owner) -> None:
    """The owner and their rows: the big tables by SQL (the ORM's cascade would
    load a million rows to delete them)."""
    from django.db import connection

    from mailing.models import Attempt, Client, Subscription

    with connection.cursor() as cursor:
        # Autovacuum has not yet analysed the million rows just written: planned
        # on the old statistics, the first DELETE took a nested loop that ran
        # for over 12 minutes; with fresh ones it is a hash join of seconds.
        cursor.execute(f"ANALYZE {Attempt._meta.db_table}")  # nosec B608 - model table
        for table, column in (
            (Attempt._meta.db_table, "client_id"),
            (Subscription._meta.db_table, "client_id"),
        ):
            cursor.execute(
                f"DELETE FROM {table} WHERE {column} IN "  # nosec B608 - model tables
                f"(SELECT id FROM {Client._meta.db_table} WHERE owner_id = %s)",
                [owner.pk],
            )
        cursor.execute(
            f"DELETE FROM {Client._meta.db_table} WHERE owner_id = %s",  # nosec B608
            [owner.pk],
        )
    owner.mailings.all().delete()  # their messages are protected while they exist
    owner.delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    default = int(os.environ.get("AUDIENCE_SCALE", "1000000"))
    parser.add_argument("--scale", type=int, default=default)
    parser.add_argument("--only", choices=["import", "audience", "segments"])
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("audience: skipped, it needs PostgreSQL (set DATABASE_URL)")
        return
    # In a child process: migrate's peak memory would hide the import's.
    subprocess.run(  # nosec B603 - our own interpreter and manage.py
        [
            sys.executable,
            str(Path(__file__).resolve().parent.parent / "manage.py"),
            "migrate",
            "--verbosity=0",
        ],
        check=True,
    )
    if args.only not in ("audience", "segments"):
        measure_import(args.scale)
    if args.only == "import":
        return
    started = time.perf_counter()
    big_owner, big = owner_with_clients(args.scale)
    setup = time.perf_counter() - started
    print(f"setup: {args.scale:,} clients in one list in {setup:.1f} s")
    small_owner, small = owner_with_clients(SMALL)
    try:
        if args.only == "segments":
            measure_segments(args.scale, big_owner, big, small_owner, small)
            return
        measure(args.scale, big, small, big_owner, small_owner)
    finally:
        drop(big_owner)
        drop(small_owner)


def measure(scale: int, big, small, big_owner, small_owner) -> None:
    from mailing import audiences

    count = timed(lambda: audiences.recipient_count(big))
    print(f"audience count at {scale:,}: {count:.3f} s (goal < 1 s)")
    big_form, big_lists = page_times(big_owner, big)
    small_form, small_lists = page_times(small_owner, small)
    print(
        f"mailing form: {big_form * 1000:.0f} ms at {scale:,} vs "
        f"{small_form * 1000:.0f} ms at {SMALL:,}: ratio {big_form / small_form:.2f} "
        "(goal < 2)"
    )
    print(
        f"lists page: {big_lists * 1000:.0f} ms vs {small_lists * 1000:.0f} ms: "
        f"ratio {big_lists / small_lists:.2f} (goal < 2)"
    )
    load = os.getloadavg()[0]
    seconds, rows, inserts, first = open_run_over(big)
    print(
        f"run open over {scale:,}: {seconds:.1f} s, {rows:,} outbox rows, "
        f"{inserts} INSERT statement(s) (goal < 30 s, one per chunk); the first "
        f"chunk claimable after {first:.1f} s; load average {load:.1f} at the "
        f"start, {os.getloadavg()[0]:.1f} at the end on {os.cpu_count()} CPUs"
    )


# --- Segments (issue 12) ---------------------------------------------------------


def tag_and_describe(owner) -> None:
    """Every 10th client tagged vip, a third in Kazan: a segment's typical shape."""
    from django.db import connection

    from mailing.models import Client, ClientField

    ClientField.objects.create(owner=owner, key="city", label="City")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Client._meta.db_table} SET
                tags = CASE WHEN id %% 10 = 0 THEN '["vip"]'::jsonb ELSE '[]' END,
                attributes = jsonb_build_object(
                    'city', CASE WHEN id %% 3 = 0 THEN 'Kazan' ELSE 'Omsk' END)
            WHERE owner_id = %s""",  # nosec B608 - table from the model
            [owner.pk],
        )
        cursor.execute("ANALYZE")


def measure_segments(scale: int, big_owner, big, small_owner, small) -> None:
    from mailing import audiences
    from mailing.models import Segment
    from mailing.segments import segment_clients

    started = time.perf_counter()
    tag_and_describe(big_owner)
    print(
        f"segments setup: tags and attributes on {scale:,} clients in "
        f"{time.perf_counter() - started:.1f} s"
    )
    rules = [
        {"type": "tag", "op": "has", "value": "vip"},
        {"type": "attribute", "key": "city", "op": "equals", "value": "Kazan"},
    ]
    segment = Segment.objects.create(owner=big_owner, name="VIP Kazan", rules=rules)
    count = segment_clients(segment).count()
    seconds = timed(lambda: segment_clients(segment).count())
    print(
        f"segment count at {scale:,}: {seconds:.3f} s, {count:,} clients (goal < 1 s)"
    )
    big.segment = segment
    big.save()
    reach = timed(lambda: audiences.recipient_count(big))
    print(f"mailing audience with the segment at {scale:,}: {reach:.3f} s")
    big_form, _lists = page_times(big_owner, big)
    small_form, _lists = page_times(small_owner, small)
    print(
        f"mailing form with a segment: {big_form * 1000:.0f} ms at {scale:,} vs "
        f"{small_form * 1000:.0f} ms at {SMALL:,}: ratio {big_form / small_form:.2f} "
        "(goal < 2)"
    )
    big.segment = None
    big.save()


if __name__ == "__main__":
    main()
