import pytest
from django.urls import reverse
from django.utils import timezone

from mailing.models import MailingRun
from tests.factories import make_mailing, make_user

pytestmark = pytest.mark.django_db


def test_mailing_page_shows_the_latest_runs_progress(client):
    owner = make_user()
    mailing = make_mailing(owner)
    MailingRun.objects.create(
        mailing=mailing,
        kind=MailingRun.Kind.MANUAL,
        slot=timezone.now(),
        status=MailingRun.Status.RUNNING,
        total=40,
        sent_count=25,
        failed_count=5,
    )
    client.force_login(owner)

    response = client.get(reverse("mailing_mailing:inspect", args=[mailing.pk]))

    assert response.status_code == 200
    assert '<progress max="100" value="75"' in response.content.decode()


def test_mailing_page_says_when_nothing_was_sent_yet(client):
    owner = make_user()
    mailing = make_mailing(owner)
    client.force_login(owner)

    response = client.get(
        reverse("mailing_mailing:inspect", args=[mailing.pk]),
        headers={"accept-language": "en"},
    )

    assert response.status_code == 200
    assert "<progress" not in response.content.decode()
