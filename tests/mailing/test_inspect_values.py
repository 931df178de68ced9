"""An inspect page tells a moment in the viewer's time zone, as the listings do
(Wagtail prints its values through |localize, which keeps UTC: 5:16 beside 8:16),
and a dash where there is nothing to show."""

import re
from datetime import UTC, datetime

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from mailing.models import Attempt, MailingRun
from tests.factories import english, make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 29, 5, 16, tzinfo=UTC)  # 8:16 in Moscow


@override_settings(TIME_ZONE="Europe/Moscow")
def test_an_attempts_times_read_in_moscow_time_on_its_inspect_page(client):
    owner = english(make_user())
    mailing = make_mailing(owner, name="Digest")
    run = MailingRun.objects.create(
        mailing=mailing, kind=MailingRun.Kind.MANUAL, slot=AT, total=1
    )
    attempt = Attempt.objects.create(
        run=run,
        mailing=mailing,
        client=make_client(owner),
        status=Attempt.Status.SUCCESS,
        attempted_at=AT,
    )
    client.force_login(owner)
    listing = client.get(reverse("mailing_attempt:list")).content.decode()
    url = reverse("mailing_attempt:inspect", args=[attempt.pk])
    inspect = client.get(url).content.decode()

    assert "Nov. 29, 2026, 8:16 a.m." in listing
    assert "Nov. 29, 2026, 8:16 a.m." in inspect
    assert "5:16 a.m." not in inspect
    assert "Digest @ 2026-11-29 08:16" in inspect
    esp_id = re.search(r"ESP message id</dt>\s*<dd>\s*(.*?)\s*</dd>", inspect, re.S)
    assert esp_id.group(1) == "—"
    with timezone.override("UTC"):
        assert str(run) == "Digest @ 2026-11-29 05:16"
