"""The mail server fails during a run: down, refusing, slow or hanging.

Each test runs the real sending engine (pipeline.send_run, its sender threads and
Vestnik's SMTP backend) against an aiosmtpd server on loopback that misbehaves on
purpose, then checks every Attempt row against what the server received: every
attempt recorded with its tries, transient refusals retried, nothing lost, nothing
sent twice except what was on the wire when the server vanished.

The small, single-fault versions live in tests/mailing/test_sending_smtp.py; one
consumer killed mid-run is tests/mailing/test_consumers_pg.py; the 20-kill run is
in tests/faults/test_consumer_kills_stress.py (`make stress`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings
from django.utils import timezone

from mailing import services
from mailing.models import Attempt, Client, Mailing, MailingRun
from mailing.sending import pipeline
from tests.factories import make_message, make_user, set_recipients
from tests.mailing.smtp_servers import controller_for, free_port, smtp_settings

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


class FaultySink:
    """Counts what it accepts per recipient; `plan(index, try_no)` may refuse or hang.

    The plan returns None (accept), an SMTP reply such as "450 ..." for RCPT, or a
    float: seconds to stall before answering RCPT (the client times out first).
    Stalling at RCPT means nothing was accepted, so a retry is not a duplicate.
    """

    def __init__(self, plan=None, data_delay: float = 0.0):
        self.plan = plan or (lambda index, try_no: None)
        self.data_delay = data_delay
        self.rcpt_tries: Counter = Counter()
        self.received: Counter = Counter()
        self.injected: Counter = Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_tries[address] += 1
        action = self.plan(index_of(address), self.rcpt_tries[address])
        if isinstance(action, float):
            self.injected["stalled RCPT"] += 1
            await asyncio.sleep(action)
            return "250 OK (too late)"
        if action:
            self.injected[action[:3]] += 1
            return action
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        for address in envelope.rcpt_tos:
            self.received[address] += 1
        return "250 2.0.0 queued"


def index_of(address: str) -> int:
    return int(address.split("@")[0].removeprefix("r"))


def big_run(recipients: int) -> MailingRun:
    owner = make_user()
    clients = Client.objects.bulk_create(
        Client(owner=owner, email=f"r{n}@example.org", full_name=f"R {n}")
        for n in range(recipients)
    )
    mailing = Mailing.objects.create(
        owner=owner, name="faults", message=make_message(owner),
        first_send_at=timezone.now(),
    )  # fmt: skip
    set_recipients(mailing, clients)
    return services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())


def rows(run: MailingRun) -> dict[str, tuple[str, int, str]]:
    """email -> (status, tries, server response) for every recipient of the run."""
    return {
        email: (status, tries, response)
        for email, status, tries, response in run.attempts.values_list(
            "client__email", "status", "tries", "server_response"
        )
    }


def tally(run: MailingRun, sink: FaultySink) -> dict[str, int]:
    recorded = rows(run)
    return {
        "recipients": len(recorded),
        "delivered": sum(1 for n in sink.received.values() if n),
        "lost": sum(
            1
            for email, (status, _, _) in recorded.items()
            if status == Attempt.Status.SUCCESS and not sink.received[email]
        ),
        "duplicated": sum(n - 1 for n in sink.received.values() if n > 1),
        "unsettled": sum(
            1 for s, _, _ in recorded.values() if s not in ("success", "failure")
        ),
        "retried": sum(1 for _, tries, _ in recorded.values() if tries > 1),
    }


SENDING = {"SENDING_CONCURRENCY": 4, "SENDING_BATCH_SIZE": 25}


def test_refusal_mix_retries_only_transient_answers_and_records_every_try(pipelining):
    """550 permanent, 450/421/452 transient once or always, the rest accepted."""
    recipients = 240

    def plan(index, try_no):
        kind = index % 6
        if kind == 0:
            return "550 5.1.1 No such user"
        if kind == 1 and try_no == 1:
            return "450 4.2.1 Mailbox busy"
        if kind == 2 and try_no <= 2:
            return "452 4.2.2 Over quota, try later"
        if kind == 3:
            return "421 4.7.0 Try again later"  # transient every time
        return None

    sink = FaultySink(plan)
    run = big_run(recipients)
    with (
        smtp_server_for(sink, pipelining) as port,
        override_settings(**smtp_settings(port), **SENDING, SENDING_MAX_TRIES=3),
    ):
        pipeline.send_run(run.pk)
    run.refresh_from_db()
    recorded, counts = rows(run), tally(run, sink)
    print(
        f"\nfault injected: refusals {dict(sink.injected)} over {recipients} "
        f"recipients; counted: {counts}, run {run.status} "
        f"sent={run.sent_count} failed={run.failed_count}"
    )
    expected = {  # kind -> (status, tries, reply prefix)
        0: ("failure", 1, "550"),
        1: ("success", 2, "250"),
        2: ("success", 3, "250"),
        3: ("failure", 3, "421"),
        4: ("success", 1, "250"),
        5: ("success", 1, "250"),
    }
    wrong = [
        (email, got)
        for email, got in recorded.items()
        if (got[0], got[1]) != expected[index_of(email) % 6][:2]
        or not got[2].startswith(expected[index_of(email) % 6][2])
    ]
    assert wrong == [], Counter(
        (index_of(email) % 6, got[0], got[1], got[2][:3]) for email, got in wrong
    )
    assert counts["lost"] == counts["duplicated"] == counts["unsettled"] == 0
    delivered = {e for e, (s, _, _) in recorded.items() if s == "success"}
    assert set(sink.received) == delivered
    assert (run.sent_count, run.failed_count) == (recipients * 4 // 6, recipients // 3)
    assert run.status == MailingRun.Status.FINISHED


def test_a_slow_server_and_stalled_answers_cost_retries_not_recipients(pipelining):
    """Every DATA answered after 20 ms; every 10th RCPT stalls past EMAIL_TIMEOUT on
    its first try: that send times out, is retried, and arrives exactly once."""
    recipients = 120
    sink = FaultySink(
        lambda index, try_no: 2.5 if index % 10 == 0 and try_no == 1 else None,
        data_delay=0.02,
    )
    run = big_run(recipients)
    started = time.monotonic()
    with (
        smtp_server_for(sink, pipelining) as port,
        override_settings(
            **smtp_settings(port), **SENDING, SENDING_MAX_TRIES=3, EMAIL_TIMEOUT=1
        ),
    ):
        pipeline.send_run(run.pk)
    elapsed = time.monotonic() - started
    run.refresh_from_db()
    recorded, counts = rows(run), tally(run, sink)
    print(
        f"\nfault injected: 20 ms per DATA, {sink.injected['stalled RCPT']} RCPTs "
        f"stalled 2.5 s (timeout 1 s) over {recipients} recipients; counted: "
        f"{counts}, run {run.status} in {elapsed:.1f} s"
    )
    assert counts == {
        "recipients": recipients,
        "delivered": recipients,
        "lost": 0,
        "duplicated": 0,
        "unsettled": 0,
        "retried": recipients // 10,
    }
    stalled = [r for e, r in recorded.items() if index_of(e) % 10 == 0]
    assert all(status == "success" and tries == 2 for status, tries, _ in stalled)
    assert (run.status, run.sent_count) == (MailingRun.Status.FINISHED, recipients)


def test_a_server_that_dies_mid_run_and_returns_loses_nothing(pipelining):
    """The server stops after 100 emails and is back 1 s later: the sends that hit
    the dead port are retried (backoff) and everything arrives."""
    recipients = 400
    sink = FaultySink(data_delay=0.002)
    port = free_port()
    server = Restartable(sink, port, pipelining)
    server.start()
    outage = threading.Thread(target=server.outage_after, args=(100, 1.0))
    run = big_run(recipients)
    outage.start()
    with override_settings(
        **smtp_settings(port),
        **SENDING,
        SENDING_MAX_TRIES=6,
        SENDING_RETRY_BACKOFF=0.25,
    ):
        pipeline.send_run(run.pk)
    outage.join()
    server.stop()
    run.refresh_from_db()
    counts = tally(run, sink)
    failed_tries = Counter(r.split(":")[0] for s, t, r in rows(run).values() if t > 1)
    print(
        f"\nfault injected: SMTP server stopped after {server.stopped_at} emails for "
        f"1.0 s ({recipients} recipients); counted: {counts}, run {run.status} "
        f"sent={run.sent_count}; retried attempts' last answer: {dict(failed_tries)}"
    )
    assert server.stopped_at is not None, "the outage never happened"
    assert counts["lost"] == counts["unsettled"] == 0
    assert counts["delivered"] == recipients
    assert counts["retried"] > 0, "no send hit the outage: it proved nothing"
    # A send cut off between the server's 250 and the client reading it is the
    # only way to a duplicate: at most one per sender connection.
    assert counts["duplicated"] <= SENDING["SENDING_CONCURRENCY"]
    assert (run.status, run.sent_count) == (MailingRun.Status.FINISHED, recipients)


def test_a_server_down_for_a_whole_run_fails_it_loudly_and_the_next_run_delivers():
    recipients = 200
    run = big_run(recipients)
    dead_port = free_port()
    started = time.monotonic()
    with override_settings(**smtp_settings(dead_port), **SENDING, SENDING_MAX_TRIES=3):
        pipeline.send_run(run.pk)
    elapsed = time.monotonic() - started
    run.refresh_from_db()
    recorded = rows(run)
    assert run.status == MailingRun.Status.FAILED
    assert (run.sent_count, run.failed_count) == (0, recipients)
    assert all(
        status == "failure" and tries == 3 and response.startswith("connection failed")
        for status, tries, response in recorded.values()
    )

    sink = FaultySink()
    again = services.open_run(run.mailing, MailingRun.Kind.MANUAL, timezone.now())
    with smtp_server_for(sink) as port, override_settings(**smtp_settings(port)):
        pipeline.send_run(again.pk)
    again.refresh_from_db()
    counts = tally(again, sink)
    print(
        f"\nfault injected: no SMTP server for a {recipients}-recipient run: "
        f"{len(recorded)} attempts recorded failed after 3 tries each in "
        f"{elapsed:.1f} s; the next run: {counts}"
    )
    assert counts["delivered"] == recipients
    assert counts["lost"] == counts["duplicated"] == counts["unsettled"] == 0


# --- servers ----------------------------------------------------------------------


class smtp_server_for:  # noqa: N801 - used as a context manager, like smtp_server
    def __init__(self, handler, pipelining: bool = True):
        self.controller = controller_for(handler, free_port(), pipelining)

    def __enter__(self) -> int:
        self.controller.start()
        return self.controller.port

    def __exit__(self, *exc_info):
        self.controller.stop()


class Restartable:
    """An aiosmtpd server on a fixed port that can be stopped and started again."""

    def __init__(self, handler: FaultySink, port: int, pipelining: bool = True):
        self.handler, self.port, self.pipelining = handler, port, pipelining
        self.controller: Controller | None = None
        self.stopped_at: int | None = None

    def start(self) -> None:
        self.controller = controller_for(self.handler, self.port, self.pipelining)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def outage_after(self, emails: int, seconds: float) -> None:
        deadline = time.monotonic() + 60
        while sum(self.handler.received.values()) < emails:
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)
        self.stopped_at = sum(self.handler.received.values())
        self.stop()
        time.sleep(seconds)
        self.start()
