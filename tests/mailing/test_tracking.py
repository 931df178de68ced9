"""Our open pixel and signed click redirects: per recipient and link, no open
redirect, UTM parameters kept, and a switch per mailing and per owner."""

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client as Browser
from django.test import override_settings

from mailing import services, tokens
from mailing.models import Attempt, Event, MailingRun, TrackedLink
from mailing.sending import pipeline
from tests.factories import make_client, make_mailing, make_message, make_user

pytestmark = pytest.mark.django_db

UTM = "https://example.org/offer?utm_source=vestnik&utm_medium=email&x=1"
HTML = (
    f'<p>Hi, see <a href="{UTM.replace("&", "&amp;")}">the offer</a>'
    ' and <a href="https://example.com/b">more</a>.</p>'
)
CLICK = re.compile(r'href="(http://testserver/t/c/[^"]+)"')
PIXEL = re.compile(r'<img src="(http://testserver/t/o/[^"]+)"')


def send(owner=None, recipients=2, **mailing_fields):
    owner = owner or make_user()
    message = make_message(owner, html_body=HTML)
    clients = [make_client(owner) for _ in range(recipients)]
    mailing = make_mailing(owner, clients=clients, message=message, **mailing_fields)
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)
    with override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend"):
        pipeline.send_run(run.pk)
    return run, {
        tokens.read_attempt_token(m.metadata["attempt"]): m.alternatives[0][0]
        for m in mail.outbox
    }


def path(url: str) -> str:
    return unescape(url).removeprefix("http://testserver")


def test_each_recipient_gets_own_redirects_and_pixel_and_the_click_is_recorded():
    run, sent = send()
    (first, html1), (second, html2) = sorted(sent.items())
    links1, links2 = CLICK.findall(html1), CLICK.findall(html2)

    assert len(links1) == 2 and set(links1).isdisjoint(links2)
    assert TrackedLink.objects.filter(run=run).count() == 2  # once per run
    assert tokens.attempt_token(first) in links1[0]

    response = Browser().get(path(links1[0]), HTTP_USER_AGENT="Mozilla/5.0")
    assert response.status_code == 302
    assert response["Location"] == UTM  # exactly as written, UTM kept

    opened = Browser().get(path(PIXEL.search(html2).group(1)))
    assert (opened.status_code, opened["Content-Type"]) == (200, "image/gif")

    click = Event.objects.get(kind=Event.Kind.CLICKED)
    assert (click.attempt_id, click.url, click.source) == (first, UTM, "redirect")
    assert click.user_agent == "Mozilla/5.0"
    assert Event.objects.get(kind=Event.Kind.OPENED).attempt_id == second


def test_the_redirect_refuses_any_url_not_in_the_sent_email():
    run, sent = send(recipients=1)
    ((attempt_id, html),) = sent.items()
    token = tokens.attempt_token(attempt_id)
    other_run, other_sent = send(recipients=1)
    other_link = TrackedLink.objects.filter(run=other_run).first()
    own_link = TrackedLink.objects.filter(run=run).first()
    forged = f"{attempt_id}.{'0' * tokens.MAC_CHARS}"
    http = Browser()

    assert http.get(f"/t/c/{token}/{other_link.pk}/").status_code == 404
    assert http.get(f"/t/c/{forged}/{own_link.pk}/").status_code == 404
    assert http.get(f"/t/c/{token}/999999/").status_code == 404
    assert (
        http.get(f"/t/c/{token}/{own_link.pk}/?u=https://evil.example/").get("Location")
        == own_link.url
    )
    assert (
        not Event.objects.filter(kind=Event.Kind.CLICKED)
        .exclude(url=own_link.url)
        .exists()
    )


def test_a_head_request_redirects_but_records_nothing():
    run, sent = send(recipients=1)
    ((attempt_id, html),) = sent.items()

    response = Browser().head(path(CLICK.findall(html)[0]))

    assert response.status_code == 302
    assert not Event.objects.exists()


def test_a_forged_pixel_answers_the_image_and_records_nothing():
    attempt = send(recipients=1)[0].attempts.get()
    response = Browser().get(f"/t/o/{attempt.pk}.{'f' * tokens.MAC_CHARS}/")

    assert response.status_code == 200
    assert not Event.objects.exists()


@pytest.mark.parametrize("switch", ["mailing", "owner"])
def test_tracking_off_per_mailing_or_per_owner_sends_links_as_written(switch):
    owner = make_user()
    if switch == "owner":
        owner.track_engagement = False
        owner.save(update_fields=["track_engagement"])
    fields = {"track_engagement": False} if switch == "mailing" else {}

    run, sent = send(owner=owner, recipients=1, **fields)
    (html,) = sent.values()

    assert not CLICK.search(html) and not PIXEL.search(html)
    assert 'href="https://example.com/b"' in html
    assert not TrackedLink.objects.filter(run=run).exists()
    assert Attempt.objects.filter(run=run, status=Attempt.Status.SUCCESS).count() == 1


def test_the_owner_switches_tracking_off_on_the_mailing_form_and_the_profile(client):
    from django.urls import reverse

    from mailing.models import Mailing
    from tests.mailing.test_schedule_admin import mailing_data

    owner = make_user()
    client.force_login(owner)
    page = client.get(reverse("mailing_mailing:add")).content.decode()
    assert 'name="track_engagement"' in page

    data = mailing_data(owner)  # an unticked box is not sent
    assert client.post(reverse("mailing_mailing:add"), data).status_code == 302
    assert Mailing.objects.get(owner=owner).track_engagement is False
    data = mailing_data(owner, name="Tracked", track_engagement="on")
    assert client.post(reverse("mailing_mailing:add"), data).status_code == 302
    assert Mailing.objects.get(name="Tracked").track_engagement is True

    profile = {"first_name": "A", "last_name": "B", "language": "en"}
    assert client.post("/accounts/profile/", profile).status_code == 302
    owner.refresh_from_db()
    assert owner.track_engagement is False


def test_every_tracked_link_of_a_rich_email_redirects_to_the_link_as_written():
    from tests.mailing.email_parts import html_part, links
    from tests.mailing.test_composition import everything

    owner = make_user()
    message, _objects = everything(owner)
    hrefs = []
    for tracked in (False, True):
        mailing = make_mailing(
            owner,
            message=message,
            clients=[make_client(owner)],
            track_engagement=tracked,
        )
        run = services.open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)
        pipeline.send_run(run.pk)
        found = links(html_part(mail.outbox[-1]))
        hrefs.append([value for tag, attribute, value in found if tag == "a"])
    written, redirects = hrefs

    assert len(written) == len(redirects)
    http, checked = Browser(), 0
    for original, redirect in zip(written, redirects, strict=True):
        if "/t/c/" not in redirect:
            continue  # per recipient (unsubscribe, web version) or not a web link
        response = http.get(urlsplit(redirect).path)
        assert (response.status_code, response["Location"]) == (302, original)
        checked += 1
    assert checked >= 3


def test_a_nul_in_the_user_agent_of_an_open_or_a_click_is_dropped():
    run, sent = send(recipients=1)
    ((attempt_id, html),) = sent.items()
    agent = "Mozilla\x00/5.0"
    opened = Browser().get(path(PIXEL.search(html).group(1)), HTTP_USER_AGENT=agent)
    clicked = Browser().get(path(CLICK.findall(html)[0]), HTTP_USER_AGENT=agent)
    assert (opened.status_code, clicked.status_code) == (200, 302)
    agents = Event.objects.filter(attempt_id=attempt_id).values_list(
        "user_agent", flat=True
    )
    assert sorted(agents) == ["Mozilla/5.0", "Mozilla/5.0"]
