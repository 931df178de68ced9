"""One manual run at a time: the database refuses a second, every caller says why.

Two quick "Send now" POSTs, or two `manage.py send_mailing` at once, used to open
two runs and mail everyone twice. The partial unique index
mailing_run_one_open_manual makes the second INSERT fail whatever the timing; the
tests race real threads against the live server and real processes.
"""

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.test import Client as DjangoClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from mailing import services
from mailing.models import Attempt, Client, MailingRun
from tests.factories import make_mailing, make_user

from .smtp_servers import smtp_server, smtp_settings

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 300


class RecipientCounter:
    """Counts each RCPT TO the sink accepts."""

    def __init__(self):
        self.received = Counter()

    async def handle_DATA(self, server, session, envelope):
        self.received.update(envelope.rcpt_tos)
        return "250 OK"


def mailing_with(recipients: int):
    owner = make_user("mailing_user")
    clients = Client.objects.bulk_create(
        Client(owner=owner, email=f"r{n}@example.org", full_name=f"R {n}")
        for n in range(recipients)
    )
    return make_mailing(owner, clients=clients, first_send_at=timezone.now())


def open_run(mailing, status="pending", kind="manual"):
    return MailingRun.objects.create(
        mailing=mailing, kind=kind, status=status, slot=timezone.now()
    )


@pytest.mark.django_db
@pytest.mark.parametrize("open_status", ["pending", "running", "paused"])
def test_the_database_holds_one_open_manual_run(open_status):
    mailing = mailing_with(1)
    open_run(mailing, "finished")
    open_run(mailing, "failed")
    open_run(mailing, open_status, kind="scheduled")
    first = open_run(mailing, open_status)
    with pytest.raises(IntegrityError), transaction.atomic():
        open_run(mailing, "pending")
    first.status = "finished"
    first.save()
    open_run(mailing, "pending")  # the first one ended: a new one may open


@pytest.mark.django_db
def test_send_now_refuses_naming_the_run_in_progress():
    mailing = mailing_with(2)
    running = open_run(mailing, "running")
    with pytest.raises(services.SendError) as refused:
        services.send_now(mailing, requested_by=mailing.owner)
    assert str(running.pk) in str(refused.value)
    assert MailingRun.objects.filter(mailing=mailing).count() == 1


@pytest.mark.postgres  # two writers at once: SQLite serialises them before the check
@pytest.mark.django_db(transaction=True)
def test_two_requests_past_the_check_open_one_run(monkeypatch):
    """Both threads pass refuse_while_open, then INSERT: the constraint decides."""
    mailing = mailing_with(3)
    both_checked = threading.Barrier(2, timeout=10)
    real_open_run = services.open_run

    def open_run_after_both_checked(*args, **kwargs):
        both_checked.wait()
        return real_open_run(*args, **kwargs)

    monkeypatch.setattr(services, "open_run", open_run_after_both_checked)
    monkeypatch.setattr(services, "enqueue_run", lambda run_id: None)
    results = []

    def send_now():
        try:
            results.append(services.send_now(mailing, requested_by=mailing.owner))
        except services.SendError as error:
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send_now) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    runs = [r for r in results if isinstance(r, MailingRun)]
    refusals = [str(r) for r in results if isinstance(r, services.SendError)]
    assert len(runs) == 1 and len(refusals) == 1
    assert str(runs[0].pk) in refusals[0]
    assert MailingRun.objects.filter(mailing=mailing).count() == 1
    assert Attempt.objects.filter(mailing=mailing).count() == 3


def signed_in_session(live_server, user) -> requests.Session:
    django_client = DjangoClient()
    django_client.force_login(user)
    session = requests.Session()
    cookie = django_client.cookies[settings.SESSION_COOKIE_NAME]
    session.cookies.set(settings.SESSION_COOKIE_NAME, cookie.value)
    return session


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_send_now_posts_against_the_live_server(live_server):
    mailing = mailing_with(RECIPIENTS)
    url = live_server.url + reverse("mailing_mailing:send_now", args=[mailing.pk])
    sessions = [signed_in_session(live_server, mailing.owner) for _ in range(2)]
    tokens = []
    for session in sessions:
        page = session.get(url)
        assert page.status_code == 200
        tokens.append(
            re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        )
    sink, go, answers = RecipientCounter(), threading.Barrier(2, timeout=10), []

    def post(session, token):
        go.wait()
        answer = session.post(
            url, data={"csrfmiddlewaretoken": token}, headers={"Referer": url}
        )
        answers.append(answer)

    with smtp_server(sink) as port, override_settings(**smtp_settings(port)):
        threads = [
            threading.Thread(target=post, args=pair)
            for pair in zip(sessions, tokens, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        wait_until_runs_end(mailing)

    runs = MailingRun.objects.filter(mailing=mailing)
    assert runs.count() == 1
    run = runs.get()
    assert (run.status, run.sent_count) == ("finished", RECIPIENTS)
    assert len(sink.received) == RECIPIENTS and set(sink.received.values()) == {1}
    assert [a.status_code for a in answers] == [200, 200]  # followed to the report
    shown = " ".join(answer.text for answer in answers)
    assert f"Run {run.pk} of this mailing" in shown or f"Запуск {run.pk}" in shown


def wait_until_runs_end(mailing, timeout=120):
    deadline = time.monotonic() + timeout
    while MailingRun.objects.filter(
        mailing=mailing, status__in=["pending", "running"]
    ).exists():
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.2)


def send_mailing_process(mailing, port: int, start_at: float) -> subprocess.Popen:
    url = urlsplit(os.environ["DATABASE_URL"])
    test_db = url._replace(path="/" + settings.DATABASES["default"]["NAME"])
    env = {**os.environ, "DATABASE_URL": urlunsplit(test_db)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.mailing.command_runner",
            str(port),
            str(start_at),
            str(mailing.pk),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_send_mailing_processes_open_one_run():
    mailing = mailing_with(RECIPIENTS)
    sink = RecipientCounter()
    with smtp_server(sink) as port:
        # Both start together once Django is set up in each (a few seconds here).
        start_at = time.time() + 8
        processes = [send_mailing_process(mailing, port, start_at) for _ in range(2)]
        results = [(p.wait(180), *p.communicate()) for p in processes]

    codes = sorted(code for code, _out, _err in results)
    assert codes == [0, 1], results
    run = MailingRun.objects.get(mailing=mailing)
    assert (run.status, run.sent_count) == ("finished", RECIPIENTS)
    assert len(sink.received) == RECIPIENTS and set(sink.received.values()) == {1}
    refused = next(err for code, _out, err in results if code == 1)
    assert f"Run {run.pk} of this mailing" in refused or f"Запуск {run.pk}" in refused
