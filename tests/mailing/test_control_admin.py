"""Pause, resume and cancel in the admin: confirm pages, owner only, CSRF, report."""

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone, translation

from mailing import services
from mailing.models import Attempt, Mailing, MailingRun
from tests.factories import make_client, make_mailing, make_user
from tests.security.access import DENY, NOT_FOUND, outcome

pytestmark = pytest.mark.django_db

RUN = MailingRun.Status


@pytest.fixture
def sending():
    """A's mailing with a run in progress: one row sent, two pending."""
    owner = make_user(email="owner@example.com")
    clients = [make_client(owner) for _ in range(3)]
    mailing = make_mailing(owner, name="Mailing in flight", clients=clients)
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    first = run.attempts.order_by("pk").first()
    Attempt.objects.filter(pk=first.pk).update(status=Attempt.Status.SUCCESS)
    MailingRun.objects.filter(pk=run.pk).update(status=RUN.RUNNING, sent_count=1)
    return owner, mailing, run


def shown(text: str) -> str:
    """The text as the admin shows it: in the site's language (Russian)."""
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(text)


def url(name: str, mailing: Mailing, run: MailingRun | None = None) -> str:
    args = [mailing.pk] if run is None else [mailing.pk, run.pk]
    return reverse(f"mailing_mailing:{name}", args=args)


def signed_in(user, csrf: bool = False) -> HttpClient:
    client = HttpClient(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def post_with_token(client: HttpClient, address: str):
    """POST the confirm page's own form, CSRF token included."""
    page = client.get(address)
    assert page.status_code == 200
    return client.post(address, {"csrfmiddlewaretoken": page.context["csrf_token"]})


def test_owner_pauses_and_resumes_through_confirm_pages(
    sending, django_capture_on_commit_callbacks
):
    owner, mailing, run = sending
    client = signed_in(owner, csrf=True)

    page = client.get(url("pause", mailing))
    question = (
        "Pause this mailing? Sending stops within moments and no new run starts; "
        "recipients not yet sent to wait until you resume it."
    )
    assert shown(question) in page.content.decode()
    mailing.refresh_from_db()
    assert not mailing.is_paused  # GET only asks

    response = post_with_token(client, url("pause", mailing))
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        shown("The mailing is paused.")
    ]
    run.refresh_from_db()
    mailing.refresh_from_db()
    assert mailing.is_paused and run.status == RUN.PAUSED

    with django_capture_on_commit_callbacks() as enqueued:
        post_with_token(client, url("resume", mailing))
    run.refresh_from_db()
    mailing.refresh_from_db()
    assert not mailing.is_paused and run.status == RUN.PENDING
    assert len(enqueued) == 1  # the run goes back to the consumers


def test_cancel_from_the_mailing_page_counts_the_rows_on_the_report(sending):
    owner, mailing, run = sending
    client = signed_in(owner, csrf=True)
    inspect = client.get(reverse("mailing_mailing:inspect", args=[mailing.pk]))
    assert url("cancel", mailing) in inspect.content.decode()
    assert url("pause", mailing) in inspect.content.decode()

    post_with_token(client, url("cancel", mailing))
    run.refresh_from_db()
    assert (run.status, run.cancelled_count) == (RUN.CANCELLED, 2)
    report = client.get(url("report", mailing))
    assert report.context["counts"]["cancelled"] == 2
    html = report.content.decode()
    assert 'data-testid="cancelled">2<' in html
    assert 'data-testid="run-cancelled">2<' in html


def test_one_run_is_paused_resumed_and_cancelled_from_the_report(sending):
    owner, mailing, run = sending
    client = signed_in(owner, csrf=True)
    report = client.get(url("report", mailing)).content.decode()
    assert url("pause_run", mailing, run) in report
    assert url("cancel_run", mailing, run) in report

    response = post_with_token(client, url("pause_run", mailing, run))
    assert response["Location"] == url("report", mailing)
    run.refresh_from_db()
    assert run.status == RUN.PAUSED
    assert (
        url("resume_run", mailing, run)
        in client.get(url("report", mailing)).content.decode()
    )

    post_with_token(client, url("cancel_run", mailing, run))
    run.refresh_from_db()
    assert run.status == RUN.CANCELLED
    # An action that no longer applies says so instead of failing.
    response = post_with_token(client, url("pause_run", mailing, run))
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [shown("This run is not sending: there is nothing to pause.")]


def test_a_post_without_the_csrf_token_changes_nothing(sending):
    owner, mailing, run = sending
    client = signed_in(owner, csrf=True)
    for name in ("pause", "cancel"):
        assert client.post(url(name, mailing)).status_code == 403
    assert client.post(url("cancel_run", mailing, run)).status_code == 403
    run.refresh_from_db()
    mailing.refresh_from_db()
    assert run.status == RUN.RUNNING and not mailing.is_paused


@pytest.mark.parametrize("role", ["mailing_user", "manager", "editor"])
def test_others_are_refused_every_control(sending, role):
    _owner, mailing, run = sending
    client = signed_in(make_user(role))
    addresses = [url(name, mailing) for name in ("pause", "resume", "cancel")]
    addresses += [
        url(f"{verb}_run", mailing, run) for verb in ("pause", "resume", "cancel")
    ]
    for address in addresses:
        assert outcome(client.get(address)) == DENY, address
        assert outcome(client.post(address)) == DENY, address
    run.refresh_from_db()
    mailing.refresh_from_db()
    assert run.status == RUN.RUNNING and not mailing.is_paused


def test_a_run_of_another_mailing_is_not_found(sending):
    owner, mailing, run = sending
    other = make_mailing(owner, name="Other mailing")
    client = signed_in(owner)
    assert outcome(client.get(url("pause_run", other, run))) == NOT_FOUND
    assert outcome(client.post(url("cancel_run", other, run))) == NOT_FOUND


def test_the_manager_sees_the_report_without_controls(sending):
    _owner, mailing, run = sending
    client = signed_in(make_user("manager"))
    report = client.get(url("report", mailing))
    assert report.status_code == 200
    assert url("pause_run", mailing, run) not in report.content.decode()


def test_the_block_dialog_says_what_stops(sending):
    owner, _mailing, _run = sending
    client = signed_in(make_user("manager"))
    page = client.get(reverse("mailing_users:block", args=[owner.pk]))
    question = shown(
        "Block %(email)s? They are signed out at once, cannot sign in, none of their "
        "mailings is sent and what is sending stops (the emails already handed to "
        "the mail server still go out)."
    )
    assert question % {"email": owner.email} in page.content.decode()
