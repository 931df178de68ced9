"""next_send_at is kept by the model and the services, whatever path saves a
mailing: a shell's objects.create, bulk_create or a data migration's historical
model, the admin form; "send now" on a `once` mailing is its send; an edited
schedule takes effect from its next slot; a stale copy never puts an old slot back.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from mailing import services
from mailing.models import Mailing, MailingRun
from mailing.sending import pipeline
from tests.factories import make_client, make_message, make_user, set_recipients

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site_in_berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


BERLIN = ZoneInfo("Europe/Berlin")
Status, Periodicity = Mailing.Status, Mailing.Periodicity


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def created(periodicity=Periodicity.ONCE, first=None, recipients=2, **fields):
    """A mailing as a shell or a script makes one: no next_send_at given."""
    owner = make_user()
    mailing = Mailing.objects.create(
        owner=owner,
        name="From a shell",
        message=make_message(owner),
        first_send_at=first or at(2026, 6, 1, 9, 0),
        periodicity=periodicity,
        **fields,
    )
    set_recipients(mailing, [make_client(owner) for _ in range(recipients)])
    return mailing


def scheduler_pass(moment: datetime) -> list[MailingRun]:
    with time_machine.travel(moment, tick=False):
        runs = services.open_scheduled_runs(moment)
        for run in runs:
            pipeline.send_run(run.pk)
    return runs


def state(mailing: Mailing) -> tuple:
    mailing.refresh_from_db()
    return mailing.status, mailing.next_send_at


def test_a_mailing_made_with_objects_create_is_sent_by_the_scheduler():
    mailing = created()
    assert mailing.next_send_at == at(2026, 6, 1, 9, 0)

    assert scheduler_pass(at(2026, 6, 1, 8, 59)) == []
    (run,) = scheduler_pass(at(2026, 6, 1, 9, 0, 30))

    run.refresh_from_db()
    assert (run.status, run.sent_count) == (MailingRun.Status.FINISHED, 2)
    assert len(mail.outbox) == 2
    assert state(mailing) == (Status.FINISHED, None)
    assert scheduler_pass(at(2026, 6, 2, 9, 0)) == []


def test_rows_written_around_save_are_still_due_at_their_first_send():
    """bulk_create and a data migration's historical model never call save()."""
    owner = make_user()
    message = make_message(owner)
    historical = (MigrationExecutor(connection).loader.project_state().apps).get_model(
        "mailing", "Mailing"
    )
    old_style = historical.objects.create(
        owner_id=owner.pk,
        message_id=message.pk,
        name="From a data migration",
        first_send_at=at(2026, 6, 1, 9, 0),
        periodicity="daily",
    )
    (bulk,) = Mailing.objects.bulk_create(
        [
            Mailing(
                owner=owner,
                message=message,
                name="bulk",
                first_send_at=at(2026, 6, 1, 10, 0),
            )
        ]
    )
    client = make_client(owner)
    for pk in (old_style.pk, bulk.pk):
        set_recipients(Mailing.objects.get(pk=pk), [client])
    assert Mailing.objects.filter(next_send_at__isnull=True).count() == 2

    first = scheduler_pass(at(2026, 6, 1, 9, 0, 10))
    second = scheduler_pass(at(2026, 6, 1, 10, 0, 10))

    assert [run.mailing_id for run in first + second] == [old_style.pk, bulk.pk]
    assert state(Mailing.objects.get(pk=old_style.pk)) == (
        Status.RUNNING,
        at(2026, 6, 2, 9, 0),
    )
    assert state(Mailing.objects.get(pk=bulk.pk)) == (Status.FINISHED, None)
    assert scheduler_pass(at(2026, 6, 1, 10, 1)) == []


def test_send_now_on_a_once_mailing_is_its_send():
    mailing = created()

    with time_machine.travel(at(2026, 5, 30, 12, 0), tick=False):
        run = services.send_now(mailing, requested_by=mailing.owner)
        pipeline.send_run(run.pk)

    assert state(mailing) == (Status.FINISHED, None)
    assert scheduler_pass(at(2026, 6, 1, 9, 0, 30)) == []
    assert len(mail.outbox) == 2
    assert MailingRun.objects.filter(mailing=mailing).count() == 1


def test_send_now_leaves_a_periodic_schedule_alone():
    mailing = created(Periodicity.DAILY)

    with time_machine.travel(at(2026, 5, 30, 12, 0), tick=False):
        pipeline.send_run(services.send_now(mailing, requested_by=mailing.owner).pk)

    assert state(mailing) == (Status.CREATED, at(2026, 6, 1, 9, 0))
    assert len(scheduler_pass(at(2026, 6, 1, 9, 0, 30))) == 1


def test_editing_the_first_send_of_an_unsent_mailing_moves_it():
    mailing = created(Periodicity.WEEKLY)

    mailing.first_send_at = at(2026, 6, 3, 18, 0)
    mailing.save()

    assert state(mailing) == (Status.CREATED, at(2026, 6, 3, 18, 0))


def test_an_edited_schedule_takes_effect_from_the_next_slot():
    mailing = created(Periodicity.WEEKLY)
    scheduler_pass(at(2026, 6, 1, 9, 0, 30))
    assert state(mailing) == (Status.RUNNING, at(2026, 6, 8, 9, 0))

    with time_machine.travel(at(2026, 6, 2, 15, 0), tick=False):
        mailing.periodicity = Periodicity.DAILY
        mailing.save()

    assert state(mailing) == (Status.RUNNING, at(2026, 6, 3, 9, 0))
    assert len(scheduler_pass(at(2026, 6, 3, 9, 0, 30))) == 1


def test_an_edit_while_a_slot_is_due_does_not_skip_it():
    """The scheduler passes every minute: an edit in between keeps the due slot."""
    mailing = created(Periodicity.DAILY, end_at=at(2026, 6, 5, 0, 0))
    scheduler_pass(at(2026, 6, 1, 9, 0, 30))

    with time_machine.travel(at(2026, 6, 2, 9, 0, 20), tick=False):
        mailing.end_at = at(2026, 6, 30, 0, 0)
        mailing.save()

    assert state(mailing) == (Status.RUNNING, at(2026, 6, 2, 9, 0))
    assert len(scheduler_pass(at(2026, 6, 2, 9, 0, 40))) == 1


def test_a_copy_loaded_before_the_scheduler_moved_on_does_not_put_the_slot_back():
    mailing = created(Periodicity.DAILY)
    stale = Mailing.objects.get(pk=mailing.pk)
    scheduler_pass(at(2026, 6, 1, 9, 0, 30))

    stale.name = "Renamed in an old browser tab"
    stale.save()

    assert state(mailing) == (Status.RUNNING, at(2026, 6, 2, 9, 0))
    assert mailing.name == "Renamed in an old browser tab"


def test_a_caller_that_sets_next_send_at_itself_is_obeyed():
    mailing = created(Periodicity.DAILY)

    mailing.next_send_at = at(2026, 6, 1, 7, 0)
    mailing.save()

    assert state(mailing) == (Status.CREATED, at(2026, 6, 1, 7, 0))


def test_a_finished_schedule_resumes_when_its_end_moves_later():
    mailing = created(Periodicity.DAILY, end_at=at(2026, 6, 1, 12, 0))
    scheduler_pass(at(2026, 6, 1, 9, 0, 30))
    assert state(mailing) == (Status.FINISHED, None)

    with time_machine.travel(at(2026, 6, 3, 12, 0), tick=False):
        mailing.end_at = at(2026, 6, 30, 0, 0)
        mailing.save()

    assert state(mailing) == (Status.RUNNING, at(2026, 6, 4, 9, 0))


def test_a_sent_once_mailing_is_not_sent_again_when_its_time_is_edited():
    mailing = created()
    scheduler_pass(at(2026, 6, 1, 9, 0, 30))

    with time_machine.travel(at(2026, 6, 2, 12, 0), tick=False):
        mailing.first_send_at = at(2026, 6, 3, 9, 0)
        mailing.save()

    assert state(mailing) == (Status.FINISHED, None)
    assert scheduler_pass(at(2026, 6, 3, 9, 0, 30)) == []


def test_shortening_a_running_schedule_to_its_end_finishes_it():
    mailing = created(Periodicity.DAILY)
    scheduler_pass(at(2026, 6, 1, 9, 0, 30))

    with time_machine.travel(at(2026, 6, 1, 12, 0), tick=False):
        mailing.end_at = at(2026, 6, 1, 18, 0)
        mailing.save()

    assert state(mailing) == (Status.FINISHED, None)


def test_save_with_update_fields_keeps_the_invariant():
    mailing = created(Periodicity.WEEKLY)
    scheduler_pass(at(2026, 6, 1, 9, 0, 30))

    with time_machine.travel(at(2026, 6, 2, 15, 0), tick=False):
        mailing.periodicity = Periodicity.DAILY
        mailing.save(update_fields=["periodicity"])

    assert state(mailing) == (Status.RUNNING, at(2026, 6, 3, 9, 0))


def test_the_slot_of_a_run_made_meanwhile_moves_on():
    """The unique (mailing, slot) run is the backstop; the schedule never sticks."""
    mailing = created(Periodicity.DAILY)
    services.open_run(mailing, MailingRun.Kind.SCHEDULED, at(2026, 6, 1, 9, 0))

    assert scheduler_pass(at(2026, 6, 1, 9, 0, 30)) == []
    assert state(mailing) == (Status.RUNNING, at(2026, 6, 2, 9, 0))
    assert len(scheduler_pass(at(2026, 6, 2, 9, 0, 30))) == 1


def test_first_send_in_the_past_goes_at_the_next_pass():
    mailing = created(Periodicity.ONCE, first=at(2026, 5, 1, 9, 0))

    assert len(scheduler_pass(at(2026, 6, 1, 12, 0))) == 1
    assert state(mailing) == (Status.FINISHED, None)


def test_a_copy_loaded_without_its_schedule_saves_without_touching_it():
    mailing = created(Periodicity.DAILY)
    scheduler_pass(at(2026, 6, 1, 9, 0, 30))
    partial = Mailing.objects.only("name").get(pk=mailing.pk)

    partial.name = "Only the name was loaded"
    partial.save()

    assert state(mailing) == (Status.RUNNING, at(2026, 6, 2, 9, 0))
    assert mailing.name == "Only the name was loaded"
