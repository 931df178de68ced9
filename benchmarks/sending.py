"""Send throughput of the pipeline against plain smtplib, peak memory, queries.

    python benchmarks/sending.py            # 10,000 recipients, memory at 10k and 100k
    python benchmarks/sending.py --quick    # 2,000 recipients, no 100k memory run
    python benchmarks/sending.py --esp      # only the ESP cases (also run by default)
    python benchmarks/sending.py --esp --esps mailgun   # one of them

The pipeline (open the run: one Attempt row per recipient; claim batches, render,
build headers, send, record) sends a 10,000-recipient mailing to a local SMTP sink:
in one process over one connection; in one process over SENDING_CONCURRENCY
connections; and as deployed, the run's SENDING_TASKS_PER_RUN tasks in as many
consumer processes (forked here) sharing the run, each over SENDING_CONCURRENCY
connections.
The baseline sends the same 10,000 emails, prepared beforehand as bytes, with plain
smtplib over one connection to the same sink. The sink is a minimal asyncio SMTP
responder run as a program of its own (aiosmtpd tops out near 520 msg/s: too slow
to be a sink), or any sink given with --sink-port (Postfix's smtp-sink); its
own rate, with nothing but pipelined sends, is printed first. Rate limits are off:
this measures the machinery, not the throttle.

The ESP cases send the same run through Anymail to stub ESP APIs (Mailgun's form
fields, SendGrid's and SparkPost's JSON; benchmarks/esp_stub.py, a program of its
own, keeping connections alive as the ESPs do) answering after 30 ms per call.
Their baseline is measured in the same session against the same stub: the same
pipeline with batch sending off, one API call per recipient (and beside it the
rate latency alone allows, connections / 30 ms). The ideal printed for them is
the ESP side's (batch limit x connections / latency: 66,667 msg/s for
1,000-recipient batches on 2 connections): 15 us per recipient for everything,
the database row included.
Beside it: the CPU-bound ceiling (Anymail alone building and posting the same
batches), the CPU per recipient of this process and of its database backend, and
the rate that CPU allows on this machine's cores. The goal is still the ideal;
the other figures say where the gap is.

PostgreSQL when DATABASE_URL is set (a `test_`-prefixed copy, kept between runs),
else SQLite. Quote the ratios: absolute rates depend on the machine.
"""

import argparse
import multiprocessing
import os
import resource
import smtplib
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROUNDS = 2
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings.test")
# Making and dropping 100,000 rows logs Wagtail's tasks at INFO: keep the report short.
os.environ.setdefault("LOG_LEVEL", "WARNING")

from benchmarks.smtp_sink import start_sink_program  # noqa: E402 - ROOT on the path

SINK_HOST = "127.0.0.1"

# --- Django and data ----------------------------------------------------------------


def setup_django(port: int):
    import django
    from django.conf import settings

    django.setup()
    settings.EMAIL_BACKEND = "mailing.sending.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.SENDING_RATE_PER_OWNER = settings.SENDING_RATE_GLOBAL = 0
    settings.DEBUG = False

    from django.db import connection

    # A database of its own (created once, kept): never the developer's data, nor
    # the test suite's. A file for SQLite, so the memory child process sees it.
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        database["TEST"]["NAME"] = str(ROOT / ".bench.sqlite3")
    else:
        database["TEST"]["NAME"] = f"bench_{database['NAME']}"
    # serialize=False: copying the tables into a string (for TransactionTestCase)
    # would make the memory child's peak the size of the data, not the sending's.
    connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)


def make_mailing(count: int):
    from django.utils import timezone

    from mailing.models import Client, Mailing, Message
    from tests.factories import make_user

    owner = make_user(role="none", email=f"bench-{uuid.uuid4().hex}@example.com")
    message = Message.objects.create(
        owner=owner,
        subject="News for {{ full_name }}",
        body="Dear {{ full_name }},\n\nthis month's news for {{ email }}.\n\n"
        "Unsubscribe: {{ unsubscribe_url }}\n" + "Lorem ipsum dolor sit amet. " * 20,
    )
    # A fresh owner: "all my clients" is exactly the readers made here.
    mailing = Mailing.objects.create(
        owner=owner,
        name="bench",
        message=message,
        first_send_at=timezone.now(),
        all_clients=True,
    )
    for start in range(0, count, 5000):
        Client.objects.bulk_create(
            Client(owner=owner, email=f"r{n}@example.org", full_name=f"Reader {n}")
            for n in range(start, min(start + 5000, count))
        )
    return mailing


def drop_bench_data():
    """Remove what this benchmark created (also what a crashed run left)."""
    from django.db.models.signals import pre_delete
    from wagtail.signal_handlers import disable_reference_index_auto_update

    from accounts.models import User
    from mailing.control import lock_runs_of_client
    from mailing.models import Client, Mailing

    owners = User.objects.filter(email__startswith="bench-")
    Mailing.objects.filter(owner__in=owners).delete()
    # No run of these is live (their mailings are gone), and no page refers to
    # them: without the per-client run lock and Wagtail's reference index update
    # (one query each per client), 100,000 clients left by an interrupted run
    # took longer to delete than the run took to send.
    uid = "client.lock_runs"
    pre_delete.disconnect(lock_runs_of_client, sender=Client, dispatch_uid=uid)
    try:
        with disable_reference_index_auto_update():
            owners.delete()
    finally:
        pre_delete.connect(lock_runs_of_client, sender=Client, dispatch_uid=uid)


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def pipeline(mailing, concurrency: int) -> tuple[float, int]:
    """Seconds and queries for open_run + send_run of the whole mailing."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from mailing import services
    from mailing.audiences import audience
    from mailing.models import MailingRun
    from mailing.sending import pipeline

    settings.SENDING_CONCURRENCY = concurrency
    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
        pipeline.send_run(run.pk)
    elapsed = time.perf_counter() - started
    run.refresh_from_db()
    assert run.sent_count == run.total == audience(mailing).count(), counts(run)
    return elapsed, counter.count


def counts(run) -> dict:
    """What a run's rows came to, for an assertion's message: which way a run
    that did not send everything went."""
    from django.db.models import Count

    from mailing.models import Attempt

    fields = ("status", "total", "sent_count", "failed_count", "unknown_count")
    left = run.attempts.exclude(status=Attempt.Status.SUCCESS)
    statuses = dict(
        left.values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    responses = list(left.values_list("server_response", flat=True).distinct()[:3])
    figures = {name: getattr(run, name) for name in fields}
    return {**figures, **statuses, "why": responses}


def _consumer(run_id: int, concurrency: int, results) -> None:
    """One consumer process (a forked run_huey worker): send_run on the shared run."""
    from django.conf import settings
    from django.db import connection

    from mailing.sending import pipeline

    settings.SENDING_CONCURRENCY = concurrency
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        pipeline.send_run(run_id)
    connection.close()
    results.put(counter.count)


def pipeline_processes(mailing, processes: int, concurrency: int) -> tuple[float, int]:
    """Like pipeline(), with the run's send tasks in `processes` consumer processes.

    This is production's scale-out: one Huey consumer per core, each picking up one
    of the run's SENDING_TASKS_PER_RUN tasks and claiming batches (skip_locked).
    Fork start-up is inside the clock.
    """
    from django.db import connections
    from django.utils import timezone

    from mailing import services
    from mailing.audiences import audience
    from mailing.models import MailingRun

    fork = multiprocessing.get_context("fork")
    results = fork.Queue()
    counter = QueryCounter()
    started = time.perf_counter()
    with connections["default"].execute_wrapper(counter):
        run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    connections.close_all()  # never share a connection with the children
    children = [
        fork.Process(target=_consumer, args=(run.pk, concurrency, results))
        for _child in range(processes)
    ]
    for child in children:
        child.start()
    queries = counter.count + sum(results.get() for _child in children)
    for child in children:
        child.join()
        assert child.exitcode == 0, child.exitcode
    elapsed = time.perf_counter() - started
    run.refresh_from_db()
    assert run.sent_count == run.total == audience(mailing).count(), counts(run)
    assert run.status == MailingRun.Status.FINISHED, run.status
    return elapsed, queries


def prepared_emails(mailing) -> list[tuple[str, str, bytes]]:
    """The same emails as the pipeline builds, as bytes, built before the clock."""
    from django.conf import settings

    from mailing.sending.pipeline import RunJob

    run = mailing.runs.order_by("-pk").first()
    job = RunJob(run)
    rows = run.attempts.order_by("pk").values_list(
        "pk", "tries", "client_id", "client__email", "client__full_name"
    )
    emails = []
    for row in rows:
        outbound = job.build(row)
        data = outbound.data
        if data is None:
            data = outbound.message.message().as_bytes(linesep="\r\n")
        emails.append((settings.DEFAULT_FROM_EMAIL, outbound.email, data))
    return emails


def sink_alone(emails, host: str, port: int) -> float:
    """The sink's own rate: the same emails pipelined with nothing else to do (no
    database, no building). The pipeline's rates mean something below it only."""
    from mailing.sending.pipelining import send_pipelined

    started = time.perf_counter()
    with smtplib.SMTP(host, port) as smtp:
        smtp.ehlo()
        for start in range(0, len(emails), 500):
            send_pipelined(smtp, emails[start : start + 500])
    return time.perf_counter() - started


def plain_smtplib(emails, port: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP(SINK_HOST, port) as smtp:
        for sender, recipient, data in emails:
            smtp.sendmail(sender, [recipient], data)
    return time.perf_counter() - started


# --- Memory: one child process per size ---------------------------------------------


def memory_child(mailing_id: int, port: int):
    """Only the pipeline in this process: its peak is the sending's, not the setup's."""
    setup_django(port)
    from mailing.models import Mailing

    mailing = Mailing.objects.get(pk=mailing_id)
    started = _peak_kb()
    pipeline(mailing, concurrency=4)
    print(f"{_peak_kb() / 1024:.0f} {started / 1024:.0f}")


def _peak_kb() -> int:
    """This process's own peak RSS (VmHWM), in kB.

    Not getrusage's ru_maxrss: Linux carries the parent's peak over fork and exec
    into it, so the child would report the benchmark process's size.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_memory(count: int, port: int) -> tuple[float, float]:
    mailing = make_mailing(count)
    try:
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--memory-child",
                str(mailing.pk),
                "--port",
                str(port),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.split()
    finally:
        drop_bench_data()
    return float(output[-2]), float(output[-1])


def report_memory(port: int) -> None:
    for size in (10_000, 100_000):
        peak, before = peak_memory(size, port)
        print(
            f"peak memory, {size:,} recipients: {peak:.0f} MB "
            f"(at start, Django loaded: {before:.0f} MB)"
        )


ESP_LATENCY = 0.03  # seconds per API call of the stub ESP
# One per payload kind: Mailgun's form fields, SendGrid's and SparkPost's JSON.
ESPS = {
    "mailgun": {"MAILGUN_API_KEY": "key", "MAILGUN_API_URL": "{url}"},
    "sendgrid": {"SENDGRID_API_KEY": "key", "SENDGRID_API_URL": "{url}"},
    "sparkpost": {"SPARKPOST_API_KEY": "key", "SPARKPOST_API_URL": "{url}"},
}


def esp_case(count: int, concurrency: int, esps=tuple(ESPS)) -> None:
    """Runs through ESP APIs with batch sending, each against a stub of its API
    answering in its documented shape after ESP_LATENCY (a program of its own).

    Printed next to each rate: the ideal, what the ESP side allows (batch limit x
    connections / latency: no Python builds 1,000-recipient requests that fast),
    and the CPU-bound ceiling, Anymail alone building and posting the same batches
    over as many connections with nothing else to do (as the sink alone for SMTP).
    """
    import warnings

    from django.urls import get_resolver

    # Anymail warns that SendGrid is no longer officially supported: still an ESP.
    warnings.filterwarnings("ignore", message=".*dropped official support")
    get_resolver().url_patterns  # noqa: B018 - the URLconf once, before any clock
    print(
        f"ESP stubs answer after {ESP_LATENCY * 1000:.0f} ms per call, "
        f"{concurrency} connections; one call per recipient would reach "
        f"{concurrency / ESP_LATENCY:.0f} msg/s"
    )
    for esp in esps:
        esp_figures(esp, count, concurrency)


def esp_figures(esp: str, count: int, concurrency: int) -> None:
    import json
    import math
    from urllib.request import urlopen

    from django.conf import settings
    from django.test import override_settings

    from benchmarks.esp_stub import start_stub_program
    from mailing.sending.capabilities import BATCH_SYNTAX

    stub, port = start_stub_program(esp, ESP_LATENCY)
    url = f"http://127.0.0.1:{port}/"
    keys = {name: value.format(url=url) for name, value in ESPS[esp].items()}
    backend = f"anymail.backends.{esp}.EmailBackend"
    limit = BATCH_SYNTAX[esp].max_recipients
    mailing = make_mailing(count)
    try:
        with override_settings(
            EMAIL_BACKEND=backend, ANYMAIL={**settings.ANYMAIL, **keys}
        ):
            times, cpu = [], []
            for _round in range(ROUNDS):
                before = json.load(urlopen(url))  # noqa: S310 - our own stub
                used = cpu_used()
                times.append(pipeline(mailing, concurrency)[0])
                cpu.append([b - a for a, b in zip(used, cpu_used(), strict=True)])
                after = json.load(urlopen(url))  # noqa: S310 - our own stub
            alone = min(esp_alone(mailing, limit, concurrency) for _r in range(ROUNDS))
            one_by_one = one_call_each(url, concurrency)
    finally:
        drop_bench_data()
        stub.terminate()
        stub.wait()
    calls = after["calls"] - before["calls"]
    # Each GET of the counts is a connection of its own: the later one is in.
    connections = after["connections"] - before["connections"] - 1
    assert after["recipients"] - before["recipients"] == count, (before, after)
    batches = math.ceil(count / limit)
    ideal = count / (math.ceil(batches / concurrency) * ESP_LATENCY)
    rate, ceiling = count / min(times), count / alone
    print(
        f"ESP {esp}: pipeline {rate:.0f} msg/s, {calls} API calls over "
        f"{connections} connections (batches of {limit}: {batches})"
    )
    print(
        f"  one call per recipient (the same pipeline and stub, batch sending "
        f"off, {ONE_BY_ONE} recipients): {one_by_one:.1f} msg/s; latency alone "
        f"allows {concurrency / ESP_LATENCY:.1f}"
    )
    print(
        f"  ratio pipeline/one call per recipient: {rate / one_by_one:.0f}x "
        f"({rate * ESP_LATENCY / concurrency:.0f}x the latency-only rate)"
    )
    print(
        f"  ratio pipeline/ideal: {rate / ideal:.2f} (ideal {ideal:.0f} msg/s, "
        f"the ESP side: latency only)"
    )
    print(
        f"  ratio pipeline/CPU-bound ceiling: {rate / ceiling:.2f} (Anymail alone "
        f"building and posting the same batches: {ceiling:.0f} msg/s)"
    )
    python, database = (min(each) * 1e6 / count for each in zip(*cpu, strict=True))
    print(
        f"  CPU per recipient: Python {python:.0f} us (one core at a time: the "
        f"GIL), PostgreSQL {database:.0f} us; the ideal leaves "
        f"{1e6 / ideal:.0f} us of Python per recipient"
    )
    cores = os.cpu_count() or 1
    # Python holds one core at a time (the GIL), so does the one database backend.
    bound = min(cores * 1e6 / (python + database), 1e6 / max(python, database))
    print(
        f"  at this CPU per recipient, {cores} cores allow at most {bound:.0f} "
        f"msg/s ({bound / ideal:.2f} of the ideal), the machine all ours"
    )


# Recipients of the one-call-per-recipient run: about 3 s at 30 ms a call on
# 2 connections, in groups of 50 that share the connections evenly.
ONE_BY_ONE = 200


def one_call_each(url: str, concurrency: int) -> float:
    """msg/s of the pipeline with batch sending off, against the same stub in
    the same session: the rate the batches are measured against."""
    import dataclasses
    import json
    from unittest import mock
    from urllib.request import urlopen

    from mailing.sending import capabilities

    mailing = make_mailing(ONE_BY_ONE)
    before = json.load(urlopen(url))  # noqa: S310 - our own stub
    # As for an ESP without batch sending: groups of SENDING_BATCH_SIZE /
    # (2 x connections), each recipient through deliver(), one call each.
    alone = dataclasses.replace(capabilities.current(), batch=None)
    with mock.patch.object(capabilities, "current", return_value=alone):
        seconds = pipeline(mailing, concurrency)[0]
    after = json.load(urlopen(url))  # noqa: S310 - our own stub
    assert after["calls"] - before["calls"] == ONE_BY_ONE, (before, after)
    return ONE_BY_ONE / seconds


def cpu_used() -> tuple[float, float]:
    """CPU seconds so far of this process (all its threads) and of its database
    connection's backend (0 when that is not on this machine, or SQLite)."""
    from django.db import connection

    from benchmarks.audience import cpu_seconds, database_cpu_seconds

    database = database_cpu_seconds() if connection.vendor == "postgresql" else 0
    return cpu_seconds(), database or 0.0


def esp_alone(mailing, limit: int, concurrency: int) -> float:
    """Seconds for Anymail alone to build and post the run's batches (as the
    pipeline built them, made before the clock) over `concurrency` connections,
    through the backend the pipeline uses (EspBatches.connect): what the ESP path
    costs without the database, as sink_alone is for SMTP."""
    from concurrent.futures import ThreadPoolExecutor

    from mailing.sending.esp import EspBatches
    from mailing.sending.pipeline import RunJob

    run = mailing.runs.order_by("-pk").first()
    job = RunJob(run)
    batches = EspBatches(job, job.capabilities)
    rows = list(
        run.attempts.order_by("pk").values_list(
            "pk", "tries", "client_id", "client__email", "client__full_name"
        )
    )
    messages = [
        batches.message(rows[start : start + limit])
        for start in range(0, len(rows), limit)
    ]
    shares = [messages[each::concurrency] for each in range(concurrency)]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        # One connection each, sending its share in turn.
        sent = [pool.submit(_post_all, batches, share) for share in shares]
        assert sum(future.result() for future in sent) == len(messages)
    return time.perf_counter() - started


def _post_all(batches, messages) -> int:
    """Post `messages` in turn on one connection of the pipeline's backend (not
    Anymail's stock one: that parses every address again and url-encodes
    Mailgun's form byte by byte, a slower path than the pipeline's)."""
    backend = batches.connect()
    try:
        return backend.send_messages(messages)
    finally:
        backend.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-only", action="store_true")
    parser.add_argument("--memory-child", type=int)
    parser.add_argument("--port", type=int)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--esp", action="store_true")
    parser.add_argument(
        "--esps", default=",".join(ESPS), help="the ESP cases to run, comma separated"
    )
    parser.add_argument(
        "--sink-port",
        type=int,
        help="port on 127.0.0.1 of an SMTP sink started separately "
        "(benchmarks/smtp_sink.py or Postfix's smtp-sink); default: "
        "benchmarks/smtp_sink.py started as a program of its own",
    )
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.port)
        return

    sink, port = None, args.sink_port
    if port is None:
        sink, port = start_sink_program()
    count = 2000 if args.quick else 10_000
    setup_django(port)
    from django.conf import settings
    from django.db import connection

    connections = args.concurrency or settings.SENDING_CONCURRENCY
    processes = settings.SENDING_TASKS_PER_RUN
    drop_bench_data()
    where = (
        f"started separately, port {port}"
        if sink is None
        else f"benchmarks/smtp_sink.py, its own program, port {port}"
    )
    print(f"database: {connection.vendor}; recipients: {count:,}; sink: {where}")
    if args.memory_only:
        report_memory(port)
        return
    esps = [esp for esp in args.esps.split(",") if esp]
    if args.esp:
        esp_case(count, connections, esps)
        if sink is not None:
            sink.terminate()
        return
    mailing = make_mailing(count)
    best = {"smtplib": [], "one": [], "threads": [], "default": []}
    queries, cpu = {}, {"one": [], "threads": []}
    try:
        pipeline(mailing, concurrency=1)  # opens a run whose emails are measured
        emails = prepared_emails(mailing)
        alone = min(sink_alone(emails, SINK_HOST, port) for _round in range(ROUNDS))
        label = "the sink alone (pipelined, nothing else):"
        print(f"{label:50} {count / alone:6.0f} msg/s")
        del emails
        # Interleaved and repeated: the machine is shared, keep the best of each.
        for _round in range(ROUNDS):
            used = cpu_used()
            seconds, queries["one"] = pipeline(mailing, concurrency=1)
            cpu["one"].append([b - a for a, b in zip(used, cpu_used(), strict=True)])
            best["one"].append(seconds)
            emails = prepared_emails(mailing)
            best["smtplib"].append(plain_smtplib(emails, port))
            del emails
            used = cpu_used()
            seconds, queries["threads"] = pipeline(mailing, connections)
            cpu["threads"].append(
                [b - a for a, b in zip(used, cpu_used(), strict=True)]
            )
            best["threads"].append(seconds)
            seconds, queries["default"] = pipeline_processes(
                mailing, processes, connections
            )
            best["default"].append(seconds)
    finally:
        drop_bench_data()
    times = {key: min(values) for key, values in best.items()}
    baseline = times["smtplib"]
    labels = {
        "smtplib": "plain smtplib, 1 process, 1 connection",
        "one": "pipeline, 1 process, 1 connection",
        "threads": f"pipeline, 1 process, {connections} connections",
        "default": f"pipeline, {processes} processes x {connections} connections",
    }
    for key, label in labels.items():
        print(f"{label + ':':50} {count / times[key]:6.0f} msg/s")
    print(f"ratio pipeline/smtplib: {baseline / times['one']:.2f} (1 connection)")
    print(
        f"ratio pipeline/smtplib: {baseline / times['threads']:.2f} "
        f"(1 process, {connections} connections)"
    )
    print(
        f"ratio pipeline/smtplib: {baseline / times['default']:.2f} "
        f"(the default: {processes} consumer processes x {connections} "
        f"connections, SENDING_TASKS_PER_RUN x SENDING_CONCURRENCY)"
    )
    for key in ("one", "default"):
        print(
            f"database queries per recipient ({labels[key]}): "
            f"{queries[key] / count:.4f}"
        )
    for key in ("one", "threads"):
        python, database = (
            min(each) * 1e6 / count for each in zip(*cpu[key], strict=True)
        )
        print(
            f"CPU per email ({labels[key]}): consumer {python:.0f} us, "
            f"PostgreSQL {database:.0f} us (open_run's INSERT included)"
        )
    if args.esps:
        esp_case(count, connections, esps)
    if not (args.quick or args.skip_memory):
        report_memory(port)
    if sink is not None:
        sink.terminate()


if __name__ == "__main__":
    main()
