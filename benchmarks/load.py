"""The public pages under load while a 10,000-recipient mailing sends: `make stress`.

    python -m benchmarks.load                   # needs PostgreSQL and Redis URLs
    python -m benchmarks.load --recipients 2000 --duration 10   # a quick try

gunicorn on the production settings (benchmarks.settings, as `make bench`) serves
the demo site from its own database, `load_<name of DATABASE_URL's database>`
(created, migrated and seeded here, kept between runs), with cache and Huey on
REDIS_URL. Two `manage.py run_huey` consumers (one with the periodic tasks, one
with -n: README "Scaling out") send a mailing with "send now" to a local SMTP sink
that counts every delivered email by RCPT address and by Message-ID, while wrk
holds 64 connections for 30 s on the home page, the blog index and a blog post.
The sending rate limit is set to recipients / duration, so the mailing goes out
across the whole load instead of in its first seconds (unthrottled, this machine
sends 10,000 in about 7 s).

Printed per page: the p99 unloaded (one connection, nothing sending), under the
64 connections alone (10 s, nothing sending) and under the 64 connections while
the mailing sends, with requests and errors (non-2xx and socket errors). Then the
mailing: delivered during the load, lost and duplicated, at the sink and in the
database. Exits 1 on any error, any lost or duplicated email, or an unfinished run.
"""

import argparse
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks.pages import (
    POST_PATH,
    PYTHON,
    ROOT,
    WrkResult,
    bench_env,
    free_port,
    parse_wrk,
    prepare,
    start_gunicorn,
    warm,
    wrk_command,
)
from benchmarks.smtp_sink import RecordingSink

PAGES = {"home": "/", "blog index": "/blog/", "blog post": POST_PATH}
CONNECTIONS = 64
UNLOADED_SECONDS = 5
PAGES_ONLY_SECONDS = 10
RUN_TIMEOUT = 600


def load_database_url(url: str) -> str:
    """The benchmark's own database next to DATABASE_URL's, created when missing."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = "load_" + parts.path.lstrip("/")
    server = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            )
    return urlunsplit(parts._replace(path="/" + name))


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def start_consumers(env: dict[str, str]) -> list[subprocess.Popen]:
    """One consumer per core; only the first enqueues the periodic tasks."""
    command = [PYTHON, "manage.py", "run_huey", "--quiet"]
    return [
        subprocess.Popen([*command, *extra], cwd=ROOT, env=env)
        for extra in ([], ["--no-periodic"])
    ]


def wrk_pages(base: str, connections: int, seconds: int) -> dict[str, WrkResult]:
    """One wrk process per page, side by side, the connections shared among them."""
    shares = [connections // len(PAGES)] * len(PAGES)
    shares[0] += connections - sum(shares)
    processes = {
        name: subprocess.Popen(
            wrk_command(
                base + path, connections=str(share), duration=f"{seconds}s", threads=1
            ),
            stdout=subprocess.PIPE,
            text=True,
        )
        for (name, path), share in zip(PAGES.items(), shares, strict=True)
    }
    return {
        name: parse_wrk(process.communicate()[0]) for name, process in processes.items()
    }


def unloaded(base: str) -> dict[str, WrkResult]:
    """Each page alone over one connection, nothing sending: the latency floor."""
    results = {}
    for name, path in PAGES.items():
        command = wrk_command(
            base + path, connections="1", duration=f"{UNLOADED_SECONDS}s", threads=1
        )
        output = subprocess.run(command, capture_output=True, text=True, check=True)
        results[name] = parse_wrk(output.stdout)
    return results


def wait_for_run(run_id: int, deadline: float) -> bool:
    """Whether the run closed before the deadline (time.monotonic()); polled."""
    from django.db import connection

    from mailing.models import MailingRun

    closed = (MailingRun.Status.FINISHED, MailingRun.Status.FAILED)
    while time.monotonic() < deadline:
        status = MailingRun.objects.filter(pk=run_id).values_list("status", flat=True)
        if status.first() in closed:
            return True
        connection.close()  # the next poll sees the consumers' commits
        time.sleep(0.5)
    return False


@dataclass
class Delivery:
    recipients: int
    distinct: int
    lost: int
    duplicated: int
    lost_by_id: int
    duplicated_by_id: int
    other: int
    statuses: Counter
    retried: int

    @property
    def lost_in_db(self) -> int:
        return self.recipients - self.statuses.get("success", 0)

    @property
    def faults(self) -> int:
        return (
            self.lost + self.duplicated + self.lost_by_id + self.duplicated_by_id
            + self.lost_in_db
        )  # fmt: skip


def count_delivery(run, sink: RecordingSink) -> Delivery:
    """Each recipient of the run at the sink (by address, by Message-ID) and in DB."""
    from mailing.audiences import audience
    from mailing.models import Attempt

    attempts = dict(Attempt.objects.filter(run=run).values_list("pk", "client__email"))
    addresses = {email.lower() for email in attempts.values()}
    at_sink = {a: n for a, n in sink.by_recipient.items() if a in addresses}
    marker = f".run.{run.pk}@"
    ids = {
        int(mid.split(".")[1]): n
        for mid, n in sink.by_message_id.items()
        if mid.startswith("attempt.") and marker in mid
    }
    rows = Attempt.objects.filter(run=run)
    return Delivery(
        recipients=audience(run.mailing).count(),
        distinct=len(at_sink),
        lost=len(addresses - set(at_sink)),
        duplicated=sum(n - 1 for n in at_sink.values()),
        lost_by_id=len(set(attempts) - set(ids)),
        duplicated_by_id=sum(n - 1 for n in ids.values()),
        other=sink.delivered - sum(ids.values()),
        statuses=Counter(rows.values_list("status", flat=True)),
        retried=rows.filter(tries__gt=1).count(),
    )


def report_pages(phases: dict[str, dict[str, WrkResult]], seconds: int) -> None:
    calm, alone, busy = phases.values()
    print(
        f"\npages: p99 unloaded (1 connection, nothing sending), with {CONNECTIONS} "
        f"connections alone ({PAGES_ONLY_SECONDS} s), and with {CONNECTIONS} "
        f"connections for {seconds} s while the mailing sends (wrk, one process a page)"
    )
    header = f"{'':12}{'unloaded':>10}{'64 alone':>10}{'64+mail':>10}"
    print(header + f"{'requests':>10}{'req/s':>7}{'non-2xx':>8}  socket c/r/w/timeout")
    for name in PAGES:
        loud = busy[name]
        socket = "/".join(map(str, loud.socket_errors))
        print(
            f"{name:12}{calm[name].p99_ms:8.1f}ms{alone[name].p99_ms:8.1f}ms"
            f"{loud.p99_ms:8.1f}ms{loud.requests:10}{loud.rate:7.0f}{loud.non_2xx:8}"
            f"  {socket}"
        )
    requests = sum(r.requests for r in busy.values())
    print(
        f"{'all':12}{'':30}{requests:10}  errors in all phases: {phase_errors(phases)}"
    )


def phase_errors(phases: dict[str, dict[str, WrkResult]]) -> int:
    return sum(r.errors for phase in phases.values() for r in phase.values())


def report_mailing(delivery: Delivery, during: int, finished: float | None, seconds):
    took = (
        f"sent in {finished:.1f} s after send now "
        f"({delivery.recipients / finished:.0f} msg/s, rate limit "
        f"{math.ceil(delivery.recipients / seconds)}/s)"
        if finished
        else "NOT FINISHED"
    )
    print(
        f"\nmailing: {delivery.recipients:,} recipients, 2 run_huey consumers; "
        f"delivered during the {seconds} s of load: {during:,}; {took}"
    )
    print(
        f"sink, by RCPT address: {delivery.distinct:,} distinct, lost "
        f"{delivery.lost}, duplicated {delivery.duplicated}; by Message-ID: lost "
        f"{delivery.lost_by_id}, duplicated {delivery.duplicated_by_id}; other "
        f"mail at the sink: {delivery.other}"
    )
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(delivery.statuses.items()))
    print(
        f"database: attempts {statuses}; lost {delivery.lost_in_db}, duplicated 0 "
        f"(one attempt per recipient, unique), re-tried {delivery.retried}"
    )


def run_load(base: str, sink: RecordingSink, env, args) -> int:
    from benchmarks.sending import make_mailing
    from mailing import services

    mailing = make_mailing(args.recipients)
    for path in PAGES.values():
        warm(base + path)
    consumers = start_consumers(env)
    try:
        phases = {"unloaded": unloaded(base)}
        phases["alone"] = wrk_pages(base, CONNECTIONS, PAGES_ONLY_SECONDS)
        run = services.send_now(mailing, mailing.owner)
        started = time.monotonic()
        phases["mailing"] = wrk_pages(base, CONNECTIONS, args.duration)
        during = sink.delivered
        closed = wait_for_run(run.pk, deadline=started + RUN_TIMEOUT)
        run.refresh_from_db()
        # From "send now" to the run's close, by the database's own timestamps.
        finished = closed and (run.finished_at - run.created_at).total_seconds()
        delivery = count_delivery(run, sink)
    finally:
        for consumer in consumers:
            consumer.send_signal(signal.SIGTERM)
        for consumer in consumers:
            consumer.wait(30)
    report_pages(phases, args.duration)
    report_mailing(delivery, during, finished, args.duration)
    return int(bool(phase_errors(phases) or delivery.faults or not finished))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=30, help="seconds of load")
    args = parser.parse_args()
    database = os.environ.get("DATABASE_URL", "")
    if not (database.startswith("postgres") and os.environ.get("REDIS_URL")):
        print("benchmarks/load.py SKIPPED: needs DATABASE_URL=postgres://... and "
              "REDIS_URL=redis://...")  # fmt: skip
        return 0
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="vestnik-load-") as tmp:
        port = free_port()
        sink = RecordingSink()
        env = bench_env(Path(tmp), port)
        env.update(
            DATABASE_URL=load_database_url(database),
            EMAIL_URL=f"smtp://127.0.0.1:{sink.port}",
        )
        # Paced to last the load: the pages share the machine with it throughout.
        rate = str(math.ceil(args.recipients / args.duration))
        env.update(SENDING_RATE_PER_OWNER=rate, SENDING_RATE_GLOBAL=rate)
        print(f"load: {os.getloadavg()[0]:.2f} (1-minute load average before)")
        prepare(env)
        setup_django(env)
        from benchmarks.sending import drop_bench_data

        drop_bench_data()
        server = start_gunicorn(env, port)
        try:
            status = run_load(f"http://127.0.0.1:{port}", sink, env, args)
        finally:
            server.terminate()
            server.wait()
            drop_bench_data()
        print(f"load: {os.getloadavg()[0]:.2f} (1-minute load average after)")
    return status


if __name__ == "__main__":
    sys.exit(main())
