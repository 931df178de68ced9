"""Attempt.mailing has no constraint in the database (the run's foreign key holds
the mailing, and each outbox row paid a second check at commit): deleting a
mailing still deletes its attempts and their events, as Django cascades."""

import pytest
from django.db import connection
from django.utils import timezone

from mailing.models import Attempt, Event, MailingRun
from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db


def foreign_keys_of_attempts() -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "mailing_attempt")
    return {spec["foreign_key"][0] for spec in found.values() if spec["foreign_key"]}


def test_the_database_checks_the_run_and_the_client_not_the_mailing():
    assert foreign_keys_of_attempts() == {"mailing_mailingrun", "mailing_client"}


def test_deleting_a_mailing_deletes_its_runs_attempts_and_events():
    owner = make_user()
    mailing, kept = make_mailing(owner), make_mailing(owner)
    client = make_client(owner)
    attempts = []
    for each in (mailing, kept):
        run = MailingRun.objects.create(
            mailing=each, kind="manual", slot=timezone.now(), status="finished"
        )
        attempts.append(
            Attempt.objects.create(
                run=run, mailing=each, client=client, status="success"
            )
        )
    Event.objects.create(
        attempt=attempts[0], kind="opened", at=timezone.now(), dedupe_key="k"
    )

    mailing.delete()

    assert list(Attempt.objects.values_list("pk", flat=True)) == [attempts[1].pk]
    assert not Event.objects.exists()
    assert not MailingRun.objects.filter(mailing_id=mailing.pk).exists()
