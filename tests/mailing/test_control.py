"""Pause, resume, cancel and moderation at the service level (issue 10, "Control").

The claim itself is asked: after each action, what may a consumer still take?
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from mailing import control, moderation, services
from mailing.events import suppress
from mailing.models import Attempt, Mailing, MailingRun
from mailing.sending import pipeline
from mailing.sending.delivery import Outcome
from mailing.sending.outbox import claim_batch, drop_unsendable
from mailing.unsubscribe import unsubscribe_client
from tests.factories import make_client, make_mailing, make_user, remove_recipients

pytestmark = pytest.mark.django_db

RUN = MailingRun.Status
ROW = Attempt.Status


def opened(count: int = 5, **fields) -> MailingRun:
    owner = make_user()
    clients = [make_client(owner) for _ in range(count)]
    mailing = make_mailing(owner, clients=clients, **fields)
    return services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())


def claim(run: MailingRun, size: int = 100, settle=()) -> list[tuple]:
    return claim_batch(run.pk, size, timezone.now(), list(settle))


def statuses(run: MailingRun) -> Counter:
    return Counter(run.attempts.values_list("status", flat=True))


def test_pause_stops_the_claim_keeps_rows_and_resume_sends_them(
    django_capture_on_commit_callbacks,
):
    run = opened(5)
    first = claim(run, 2)
    control.pause_mailing(run.mailing)

    run.refresh_from_db()
    assert run.status == RUN.PAUSED and Mailing.objects.get().is_paused
    # The group already claimed settles; nothing more is handed out.
    settle = [Outcome(pk, tries, True) for pk, tries, *_rest in first]
    assert claim(run, settle=settle) == []
    assert statuses(run) == {ROW.SUCCESS: 2, ROW.PENDING: 3}
    assert drop_unsendable(run.pk) == 0  # paused rows wait, they are not dropped
    assert not Mailing.objects.due(timezone.now() + timedelta(days=1))

    with django_capture_on_commit_callbacks() as callbacks:
        assert control.resume_mailing(run.mailing) == 1
    assert len(callbacks) == 1  # the run is enqueued again
    run.refresh_from_db()
    assert run.status == RUN.PENDING
    assert len(claim(run)) == 3


def test_a_paused_run_is_left_by_its_consumer_and_sent_after_resume():
    run = opened(4)
    control.pause_run(run)
    pipeline.send_run(run.pk)
    assert mail.outbox == [] and statuses(run) == {ROW.PENDING: 4}

    control.resume_run(run)
    pipeline.send_run(run.pk)
    run.refresh_from_db()
    assert len(mail.outbox) == 4 and run.status == RUN.FINISHED
    assert (run.sent_count, run.cancelled_count) == (4, 0)


def test_cancel_marks_pending_rows_cancelled_and_lets_claimed_ones_settle():
    run = opened(5)
    first = claim(run, 2)
    control.cancel_run(run)

    run.refresh_from_db()
    assert (run.status, run.cancelled_count) == (RUN.CANCELLED, 3)
    assert run.finished_at is not None
    settle = [Outcome(pk, tries, True) for pk, tries, *_rest in first]
    assert claim(run, settle=settle) == []
    run.refresh_from_db()
    assert statuses(run) == {ROW.SUCCESS: 2, ROW.CANCELLED: 3}
    assert (run.sent_count, run.status) == (2, RUN.CANCELLED)
    with pytest.raises(control.ControlError):
        control.cancel_run(run)
    with pytest.raises(control.ControlError):
        control.pause_run(run)


def test_cancelling_a_once_mailings_run_finishes_the_mailing(
    django_capture_on_commit_callbacks,
):
    run = opened(2)
    services.mark_sent_now(run.mailing)
    with django_capture_on_commit_callbacks(execute=True):
        control.cancel_mailing(run.mailing)
    assert Mailing.objects.get().status == Mailing.Status.FINISHED


def test_a_run_of_a_paused_mailing_is_resumed_with_the_mailing_only():
    run = opened(2)
    control.pause_mailing(run.mailing)
    with pytest.raises(control.ControlError):
        control.resume_run(run)


@pytest.mark.parametrize("act", ["disable", "block"])
def test_moderation_cancels_what_is_sending(act):
    run = opened(4)
    claim(run, 1)
    manager = make_user("manager")
    if act == "disable":
        moderation.set_mailing_enabled(run.mailing, False, by=manager)
    else:
        moderation.set_user_blocked(run.mailing.owner, True, by=manager)
    run.refresh_from_db()
    assert (run.status, run.cancelled_count) == (RUN.CANCELLED, 3)
    assert statuses(run) == {ROW.SENDING: 1, ROW.CANCELLED: 3}


@pytest.mark.parametrize(
    "change", ["unsubscribe", "suppress", "remove", "disable", "block", "deactivate"]
)
def test_the_claim_rechecks_state_written_behind_its_back(change):
    """No signal, no service: a bare UPDATE is enough to keep a row from the claim."""
    run = opened(3)
    target = run.attempts.order_by("pk").first()
    mailing, owner = run.mailing, run.mailing.owner
    if change == "unsubscribe":
        unsubscribe_client(target.client_id)
    elif change == "suppress":
        suppress(target.client_id, "hard bounce")
    elif change == "remove":
        remove_recipients(mailing, target.client_id)
    elif change == "disable":
        Mailing.objects.filter(pk=mailing.pk).update(is_enabled=False)
    elif change == "block":
        type(owner).objects.filter(pk=owner.pk).update(is_blocked=True)
    else:
        type(owner).objects.filter(pk=owner.pk).update(is_active=False)
    claimed = {row[0] for row in claim(run)}
    if change in ("unsubscribe", "suppress", "remove"):
        assert claimed == set(run.attempts.values_list("pk", flat=True)) - {target.pk}
        dropped = 1
    else:
        assert claimed == set()
        dropped = 3
    assert drop_unsendable(run.pk) == dropped
    run.refresh_from_db()
    assert run.cancelled_count == dropped
    expected = Counter({ROW.CANCELLED: dropped, ROW.SENDING: 3 - dropped})
    assert statuses(run) == +expected


def test_a_run_finishes_with_unsubscribed_rows_cancelled_and_counted():
    run = opened(4)
    gone = run.attempts.order_by("pk").last()
    unsubscribe_client(gone.client_id)
    pipeline.send_run(run.pk)
    run.refresh_from_db()
    gone.refresh_from_db()
    assert gone.status == ROW.CANCELLED and len(mail.outbox) == 3
    assert (run.status, run.sent_count, run.cancelled_count) == (RUN.FINISHED, 3, 1)
    progress = services.run_progress(run.mailing)
    assert (progress["cancelled"], progress["done"], progress["percent"]) == (1, 4, 100)


def test_deleting_a_mailing_or_client_mid_run_removes_its_rows():
    run = opened(3)
    claim(run, 1)
    client = run.attempts.order_by("pk").last().client
    client.delete()
    assert run.attempts.count() == 2
    run.mailing.delete()
    assert not MailingRun.objects.filter(pk=run.pk).exists()
