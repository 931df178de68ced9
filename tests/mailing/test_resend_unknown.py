"""Rows left `unknown`: listed on the report, resent only on the owner's POST."""

from email.utils import parseaddr

import pytest
from django.urls import reverse
from django.utils import timezone

from mailing import resend, services
from mailing.models import Attempt, MailingRun
from mailing.sending.leases import flag_unknown
from tests.factories import make_client, make_mailing, make_user, recipients_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def crashed(mailoutbox):
    """A finished run: two rows `unknown` (its consumer died), three sent."""
    owner = make_user(email="owner@example.com")
    clients = [make_client(owner, email=f"c{n}@example.org") for n in range(5)]
    mailing = make_mailing(owner, clients=clients)
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    rows = list(run.attempts.order_by("client__email"))
    for attempt in rows[:2]:
        attempt.status, attempt.claimed_at = Attempt.Status.UNKNOWN, timezone.now()
        attempt.server_response = "The consumer stopped during this send"
        attempt.save()
    Attempt.objects.filter(pk__in=[a.pk for a in rows[2:]]).update(
        status=Attempt.Status.SUCCESS
    )
    run.status = MailingRun.Status.FINISHED
    run.save()
    return mailing


def unknown_emails(mailing):
    rows = resend.unresolved_unknown(mailing)
    return sorted(rows.values_list("client__email", flat=True))


def test_the_report_lists_them_and_offers_the_resend(client, crashed):
    client.force_login(crashed.owner)
    page = client.get(reverse("mailing_mailing:report", args=[crashed.pk]))
    text = page.content.decode()
    assert "c0@example.org" in text and "c1@example.org" in text
    assert reverse("mailing_mailing:send_unknown", args=[crashed.pk]) in text


def test_confirm_warns_and_resends_only_them_once(
    client, crashed, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(crashed.owner)
    url = reverse("mailing_mailing:send_unknown", args=[crashed.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="resend-warning"' in page
    assert "twice" in page or "дважды" in page
    assert Attempt.objects.filter(mailing=crashed).count() == 5  # GET changes nothing

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)  # the run is enqueued on commit and sent (immediate Huey)
    resent = MailingRun.objects.filter(mailing=crashed).latest("pk")
    assert (resent.kind, resent.status, resent.total) == ("manual", "finished", 2)
    assert sorted(parseaddr(m.to[0])[1] for m in mailoutbox) == [
        "c0@example.org",
        "c1@example.org",
    ]
    # Resolved: listed no more, and a second POST has nothing to send.
    assert unknown_emails(crashed) == []
    client.post(url)
    assert MailingRun.objects.filter(mailing=crashed).count() == 2
    assert len(mailoutbox) == 2


def test_a_recipient_since_unsubscribed_is_not_resent(crashed):
    first = recipients_of(crashed).get(email="c0@example.org")
    first.unsubscribed_at = timezone.now()
    first.save()
    run = resend.resend_unknown(crashed, crashed.owner)
    assert list(run.attempts.values_list("client__email", flat=True)) == [
        "c1@example.org"
    ]


def test_refused_while_a_manual_run_is_open(crashed):
    open_run = MailingRun.objects.create(
        mailing=crashed, kind="manual", status="running", slot=timezone.now()
    )
    with pytest.raises(services.SendError) as refused:
        resend.resend_unknown(crashed, crashed.owner)
    assert str(open_run.pk) in str(refused.value)


@pytest.mark.parametrize("role", ["mailing_user", "manager"])
def test_nobody_else_may_resend(client, crashed, role, mailoutbox):
    client.force_login(make_user(role))
    url = reverse("mailing_mailing:send_unknown", args=[crashed.pk])
    for response in (client.get(url), client.post(url)):
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert response.url == reverse("wagtailadmin_home")
    assert MailingRun.objects.filter(mailing=crashed).count() == 1
    assert mailoutbox == []


def test_the_post_needs_its_csrf_token(crashed):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(crashed.owner)
    url = reverse("mailing_mailing:send_unknown", args=[crashed.pk])
    assert client.post(url).status_code == 403
    assert MailingRun.objects.filter(mailing=crashed).count() == 1


@pytest.mark.parametrize(
    ("language", "shown", "not_shown"),
    [("en", "The consumer stopped", "Обработчик"), ("ru", "Обработчик", "consumer")],
)
def test_a_lost_consumers_note_is_shown_in_the_readers_language(
    client, language, shown, not_shown
):
    owner = make_user(email="reader@example.com", language=language)
    mailing = make_mailing(owner, clients=[make_client(owner)])
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    run.attempts.update(status=Attempt.Status.SENDING)
    flag_unknown(run.attempts.all())  # stored by a consumer, in no reader's language

    client.force_login(owner)
    text = client.get(reverse("mailing_mailing:report", args=[mailing.pk]))
    text = text.content.decode()

    assert shown in text and not_shown not in text
