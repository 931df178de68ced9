"""Issue 16: the demo has months of sending history, so the first report shows a
chart, and nothing is sent to make it."""

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from mailing.models import Attempt, Mailing, MailingRun

pytestmark = pytest.mark.django_db


def test_seed_demo_writes_history_without_sending_and_only_once(client):
    quiet = io.StringIO()
    call_command("seed_demo", stdout=quiet)
    runs = MailingRun.objects.filter(status=MailingRun.Status.FINISHED).count()
    attempts = Attempt.objects.count()
    statuses = set(Attempt.objects.values_list("status", flat=True))

    call_command("seed_demo", stdout=quiet)

    assert runs >= 2 * 25 and attempts >= runs
    assert {Attempt.Status.SUCCESS, Attempt.Status.FAILURE} <= statuses
    assert Attempt.Status.BOUNCED in statuses
    assert MailingRun.objects.count() == runs  # idempotent
    assert mail.outbox == []

    owner = User.objects.get(email="user@vestnik.example")
    mailing = Mailing.objects.filter(owner=owner).first()
    client.force_login(owner)
    report = client.get(reverse("mailing_mailing:report", args=[mailing.pk]))
    heights = [
        int(h)
        for h in re.findall(r'height="(\d+)" fill="#1f7e3a"', report.content.decode())
    ]
    assert any(heights), "the first report's chart is empty"
