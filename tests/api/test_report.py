"""A mailing's report through the API reads the stored counters, as the admin's."""

import pytest
from django.utils import timezone

from mailing.models import MailingRun, RunDayCounts
from tests.factories import make_mailing

pytestmark = pytest.mark.django_db


def test_the_report_adds_up_the_runs_and_their_events(owner, token_for):
    mailing = make_mailing(owner)
    for sent, failed, opens, human in ((3, 1, 2, 1), (5, 0, 4, 3)):
        run = MailingRun.objects.create(
            mailing=mailing,
            kind=MailingRun.Kind.MANUAL,
            slot=timezone.now(),
            status=MailingRun.Status.FINISHED,
            total=sent + failed,
            sent_count=sent,
            failed_count=failed,
        )
        RunDayCounts.objects.create(
            run=run,
            day=timezone.now().date(),
            opens=opens,
            human_opens=human,
            complaints=1,
        )

    answer = token_for(owner).get(f"/api/v1/mailings/{mailing.pk}/report/")

    assert answer.status_code == 200, answer.content
    report = answer.json()
    assert (report["sent"], report["failed"]) == (8, 1)
    assert (report["opens"], report["human_opens"]) == (6, 4)
    assert report["rate"] == round(100 * 8 / 9, 2)
    assert report["complaint_rate"] == 25.0 and report["complaints_too_high"]
