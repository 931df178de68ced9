"""Issue 16: the admin home shows dashboard panels per role, each through for_user.

An owner: the next sends, the runs going now with their progress, the last 30
days. A manager: the whole service, the users blocked lately, the mailings
disabled. Nobody sees another owner's mailing unless they are a manager.
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mailing import moderation
from mailing.events import Happening, record_event
from mailing.models import Attempt, MailingRun
from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db


def panel(content: str, name: str) -> str:
    found = re.search(rf'<section[^>]*data-testid="{name}".*?</section>', content, re.S)
    return found.group(0) if found else ""


def make_run(mailing, *, status, total, sent=0, outcomes=()):
    run = MailingRun.objects.create(
        mailing=mailing,
        kind=MailingRun.Kind.MANUAL,
        slot=timezone.now(),
        status=status,
        total=total,
        sent_count=sent,
    )
    for outcome in outcomes:
        attempt = Attempt.objects.create(
            run=run,
            mailing=mailing,
            client=make_client(mailing.owner),
            status=Attempt.Status.SUCCESS,
            attempted_at=timezone.now() - timedelta(days=2),
        )
        # A bounce comes back as an event, counted in the rollups with it.
        if outcome == Attempt.Status.BOUNCED:
            record_event(attempt.pk, Happening(kind="hard_bounce", source="postmark"))
    return run


@pytest.fixture
def service():
    owner = make_user(email="owner@example.com", language="en")
    other = make_user(email="other@example.com", language="en")
    soon = make_mailing(
        owner, name="Soon letter", next_send_at=timezone.now() + timedelta(hours=2)
    )
    make_run(
        soon,
        status=MailingRun.Status.RUNNING,
        total=10,
        sent=4,
        outcomes=[Attempt.Status.SUCCESS] * 3 + [Attempt.Status.BOUNCED],
    )
    foreign = make_mailing(other, name="Foreign letter")
    make_run(foreign, status=MailingRun.Status.RUNNING, total=5)
    return {"owner": owner, "other": other, "soon": soon, "foreign": foreign}


def test_an_owner_sees_next_sends_running_runs_and_their_last_30_days(client, service):
    client.force_login(service["owner"])
    content = client.get("/admin/").content.decode()

    next_sends = panel(content, "mailing_next_sends")
    running = panel(content, "mailing_running_runs")
    last_days = panel(content, "mailing_last_days")
    assert "Soon letter" in next_sends
    assert "Soon letter" in running and 'value="40"' in running
    assert 'data-figure="succeeded">3<' in last_days
    assert 'data-figure="bounced">1<' in last_days
    assert re.search(r'data-figure="rate">75[.,]0%<', last_days)
    assert "Foreign letter" not in content
    assert not panel(content, "mailing_blocked_users")
    assert not panel(content, "mailing_disabled")


def test_a_manager_sees_the_whole_service_blocked_users_and_disabled_mailings(
    client, service
):
    manager = make_user("manager", email="manager@example.com", language="en")
    moderation.set_user_blocked(service["other"], True, by=manager)
    moderation.set_mailing_enabled(service["soon"], False, by=manager)
    client.force_login(manager)
    content = client.get("/admin/").content.decode()

    assert "other@example.com" in panel(content, "mailing_blocked_users")
    assert "Soon letter" in panel(content, "mailing_disabled")
    assert 'data-figure="succeeded">3<' in panel(content, "mailing_last_days")
    assert 'data-figure="mailings_total">2<' in panel(content, "mailing-figures")
    assert not panel(content, "mailing_next_sends")


def test_an_unblocked_user_leaves_the_blocked_panel(client, service):
    manager = make_user("manager", email="manager@example.com")
    moderation.set_user_blocked(service["other"], True, by=manager)
    moderation.set_user_blocked(service["other"], False, by=manager)
    client.force_login(manager)
    content = client.get("/admin/").content.decode()
    assert "other@example.com" not in panel(content, "mailing_blocked_users")


def test_an_editor_gets_no_mailing_panels(client, service):
    client.force_login(make_user("editor", email="editor@example.com"))
    content = client.get("/admin/").content.decode()
    for name in ("mailing_next_sends", "mailing_last_days", "mailing_disabled"):
        assert not panel(content, name), name


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_next_send_reads_as_in_the_mailings_listing(client, service, language):
    service["owner"].language = language
    service["owner"].save()
    client.force_login(service["owner"])
    next_sends = panel(client.get("/admin/").content.decode(), "mailing_next_sends")
    shown = re.search(r"<td>([^<(]+?) \(", next_sends).group(1)

    listing = client.get(reverse("mailing_mailing:list")).content.decode()
    assert shown in listing
    assert str(timezone.localtime(service["soon"].next_send_at).year) in shown
    # One mailing a row: the column is «Рассылка», the menu «Рассылки».
    column = {"ru": "Рассылка", "en": "Mailing"}[language]
    assert f"<th>{column}</th>" in next_sends
