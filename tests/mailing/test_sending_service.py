"""The sending service around the wire: ESP statuses, manual runs, the sweeper,
the rate limit, progress and the commands."""

from datetime import timedelta

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import override_settings
from django.utils import timezone

from mailing import services
from mailing.models import Attempt, Mailing, MailingRun
from mailing.ratelimit import LocalRateLimiter, RedisRateLimiter
from mailing.sending import pipeline
from mailing.sending.delivery import describe_failure
from mailing.tokens import read_attempt_token
from tests.factories import make_client, make_mailing, make_user

ANYMAIL_TEST = "anymail.backends.test.EmailBackend"


def mailing_with(count: int, **fields) -> Mailing:
    owner = make_user()
    clients = [make_client(owner) for _ in range(count)]
    return make_mailing(owner, clients=clients, **fields)


def open_manual(mailing: Mailing) -> MailingRun:
    return services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())


@pytest.mark.django_db
@override_settings(EMAIL_BACKEND=ANYMAIL_TEST)
def test_esp_message_ids_metadata_and_tags_are_recorded():
    mailing = mailing_with(2)
    run = open_manual(mailing)

    pipeline.send_run(run.pk)

    sent = {read_attempt_token(m.metadata["attempt"]): m for m in mail.outbox}
    for attempt in run.attempts.all():
        message = sent[attempt.pk]
        assert attempt.esp_message_id == str(message.anymail_status.message_id)
        assert attempt.server_response == "sent"
        assert message.tags == ["vestnik", f"mailing-{mailing.pk}"]
        assert message.metadata["run_id"] == run.pk
        assert message.alternatives[0][1] == "text/html"


def response(status: int):
    class Response:
        status_code, reason, text = status, "reason", "ESP says no"

        def json(self):
            raise ValueError

    return Response()


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (AnymailAPIError("down", status_code=503, response=response(503)), True),
        (AnymailAPIError("slow down", status_code=429, response=response(429)), True),
        (AnymailAPIError("bad", status_code=400, response=response(400)), False),
        (AnymailAPIError("no connection"), True),
        (AnymailRecipientsRefused("invalid"), False),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (TimeoutError("timed out"), True),
    ],
)
def test_esp_and_network_errors_are_classified(error, transient):
    is_transient, words = describe_failure(error, "a@example.org")

    assert is_transient is transient
    assert words


@pytest.mark.django_db
def test_esp_429_is_retried_then_recorded_failed():
    mailing = mailing_with(1)
    run = open_manual(mailing)

    class Throttled(AnymailAPIError):
        pass

    from anymail.backends import test as anymail_test

    original = anymail_test.EmailBackend.post_to_esp

    def throttled(self, payload, message):
        message.anymail_test_response = AnymailAPIError(
            "too many", status_code=429, response=response(429)
        )
        return original(self, payload, message)

    anymail_test.EmailBackend.post_to_esp = throttled
    try:
        with override_settings(EMAIL_BACKEND=ANYMAIL_TEST, SENDING_MAX_TRIES=2):
            pipeline.send_run(run.pk)
    finally:
        anymail_test.EmailBackend.post_to_esp = original

    attempt = run.attempts.get()
    assert (attempt.status, attempt.tries) == (Attempt.Status.FAILURE, 2)
    assert "429" in attempt.server_response


@pytest.mark.django_db
def test_send_now_is_a_manual_run_through_the_same_sender(
    django_capture_on_commit_callbacks,
):
    mailing = mailing_with(2)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.send_now(mailing, requested_by=mailing.owner)

    run.refresh_from_db()
    assert (run.kind, run.status, run.sent_count) == ("manual", "finished", 2)
    assert len(mail.outbox) == 2
    mailing.refresh_from_db()
    # A `once` mailing sent now is done: the scheduler does not send it again.
    assert (mailing.status, mailing.next_send_at) == (Mailing.Status.FINISHED, None)


@pytest.mark.django_db
def test_send_now_refuses_other_users_and_disabled_mailings():
    mailing = mailing_with(1)

    with pytest.raises(PermissionDenied):
        services.send_now(mailing, requested_by=make_user())
    with pytest.raises(PermissionDenied):
        services.send_now(mailing, requested_by=make_user("manager"))
    mailing.is_enabled = False
    mailing.save()
    with pytest.raises(services.SendError):
        services.send_now(mailing, requested_by=mailing.owner)
    assert not MailingRun.objects.exists()


@pytest.mark.django_db
def test_the_sweeper_flags_stuck_sends_and_finishes_what_is_left():
    mailing = mailing_with(3)
    run = open_manual(mailing)
    long_ago = timezone.now() - timedelta(hours=1)
    stuck, *pending = run.attempts.order_by("pk")
    Attempt.objects.filter(pk=stuck.pk).update(
        status=Attempt.Status.SENDING, claimed_at=long_ago, tries=1
    )
    MailingRun.objects.filter(pk=run.pk).update(
        status=MailingRun.Status.RUNNING, heartbeat_at=long_ago
    )

    # Huey runs inline under the test settings: the re-enqueued run is sent here.
    report = services.sweep_stalled_runs(timezone.now())

    assert report == {"unknown": 1, "returned": 0, "requeued": 1, "finished": 0}
    assert Attempt.objects.get(pk=stuck.pk).status == Attempt.Status.UNKNOWN
    assert {m.to[0].split("<")[-1].rstrip(">") for m in mail.outbox} == {
        a.client.email for a in pending
    }  # the unknown one is never sent again
    run.refresh_from_db()
    assert (run.status, run.sent_count) == (MailingRun.Status.FINISHED, 2)
    assert services.sweep_stalled_runs(timezone.now())["requeued"] == 0


@pytest.mark.django_db
def test_the_sweeper_leaves_a_live_run_alone():
    run = open_manual(mailing_with(1))
    MailingRun.objects.filter(pk=run.pk).update(
        status=MailingRun.Status.RUNNING, heartbeat_at=timezone.now()
    )

    assert services.sweep_stalled_runs(timezone.now())["requeued"] == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_progress_of_the_latest_run_and_its_include():
    mailing = mailing_with(4)
    assert services.run_progress(mailing) is None
    run = open_manual(mailing)
    MailingRun.objects.filter(pk=run.pk).update(sent_count=2, failed_count=1)

    progress = services.run_progress(mailing)
    html = render_to_string(
        "mailing/includes/run_progress.html", {"progress": progress}
    )

    assert (progress["done"], progress["total"], progress["percent"]) == (3, 4, 75)
    assert progress["is_running"]
    assert 'value="75"' in html and "3" in html and "4" in html


@pytest.mark.django_db
def test_send_mailing_command_sends_and_reports():
    mailing = mailing_with(2)

    call_command("send_mailing", str(mailing.pk))

    run = MailingRun.objects.get()
    assert (run.kind, run.sent_count) == ("manual", 2)
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_send_due_mailings_command_runs_one_scheduler_pass():
    past = timezone.now() - timedelta(minutes=5)
    mailing_with(1, first_send_at=past, next_send_at=past)
    mailing_with(1)  # not due yet

    call_command("send_due_mailings")
    call_command("send_due_mailings")

    assert MailingRun.objects.get().sent_count == 1
    assert len(mail.outbox) == 1


def test_local_rate_limit_grants_up_to_the_limit_per_second():
    now = [1000.2]
    limiter = LocalRateLimiter(per_owner=3, global_=5, clock=lambda: now[0])
    mine, other = limiter._limits(owner_id=1), limiter._limits(owner_id=2)

    # One window: the owner gets 3, another owner the 2 the service has left.
    assert limiter._try(mine, 3) == 0
    assert 790 <= limiter._try(mine, 1) <= 800  # ms to the next window
    assert limiter._try(other, 2) == 0
    assert limiter._try(other, 1) > 0
    now[0] = 1001.0
    assert limiter._try(mine, 3) == 0
    assert limiter.largest_grant() == 3


@pytest.mark.redis
def test_redis_rate_limit_is_shared_between_consumers():
    import time

    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    while client.time()[1] > 800_000:  # start early in a one-second window
        time.sleep(0.05)
    first, second = RedisRateLimiter(4, 0), RedisRateLimiter(4, 0)
    limits = first._limits(owner_id=int(time.time() * 1000))

    assert first._try(limits, 3) == 0
    assert second._try(limits, 1) == 0
    assert second._try(limits, 1) > 0  # the owner's 4 are gone for this second
    assert first._try(limits, 1) > 0
