"""Deleting a mailing costs the same number of queries whatever its history: runs,
attempts and events stay out of Wagtail's reference index (SendingRecord).
It took 4 queries per attempt before (1,636 for 400 attempts)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ReferenceIndex

from mailing.models import Attempt, Mailing, MailingRun
from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db


def mailing_with_history(attempts: int) -> Mailing:
    owner = make_user()
    clients = [make_client(owner) for _ in range(attempts)]
    mailing = make_mailing(owner, clients=clients)
    run = MailingRun.objects.create(
        mailing=mailing,
        kind=MailingRun.Kind.MANUAL,
        slot=timezone.now(),
        status=MailingRun.Status.FINISHED,
        total=attempts,
    )
    for recipient in clients:  # one by one, as the sending path saves them
        Attempt.objects.create(
            run=run, mailing=mailing, client=recipient, status=Attempt.Status.SUCCESS
        )
    return mailing


def queries_to_delete(client, mailing: Mailing) -> int:
    client.force_login(mailing.owner)
    url = reverse("mailing_mailing:delete", args=[mailing.pk])
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url)
    assert response.status_code == 302
    assert not Mailing.objects.filter(pk=mailing.pk).exists()
    return len(queries)


def test_deleting_a_mailing_does_not_cost_queries_per_attempt(client):
    small = queries_to_delete(client, mailing_with_history(5))
    large = queries_to_delete(client, mailing_with_history(200))

    assert large <= small + 10, (small, large)


def test_sending_records_are_not_in_the_reference_index():
    mailing = mailing_with_history(3)

    indexed = ReferenceIndex.objects.filter(
        base_content_type__model__in=["mailingrun", "attempt"]
    )
    assert not indexed.exists()
    assert Attempt.objects.filter(mailing=mailing).count() == 3
