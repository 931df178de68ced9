"""Human or machine, through the real pixel and redirect views with the request
shapes each kind of visitor sends; the verdict and its reason are stored."""

import json
from datetime import timedelta

import pytest
from django.test import Client as Browser
from django.test import override_settings
from django.utils import timezone

from mailing import tokens
from mailing.classification import Hit, classify
from mailing.models import Attempt, Event, TrackedLink
from tests.mailing.test_tracking import CLICK, send

pytestmark = pytest.mark.django_db

V = Event.Verdict
# Recorded User-Agent headers.
APPLE_MPP = "Mozilla/5.0"
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
    "(via ggpht.com GoogleImageProxy)"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SCANNER = "python-requests/2.31.0"


@pytest.fixture(autouse=True)
def _forget_heads():
    """A HEAD is remembered in the cache by attempt and link id; rolled-back tests
    on SQLite reuse ids, so an earlier test's HEAD would be seen as this one's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def sent():
    """One email with two tracked links, sent an hour ago."""
    run, emails = send(recipients=1)
    ((attempt_id, html),) = emails.items()
    Attempt.objects.filter(pk=attempt_id).update(
        attempted_at=timezone.now() - timedelta(hours=1)
    )
    token = tokens.attempt_token(attempt_id)
    links = [url.removeprefix("http://testserver") for url in CLICK.findall(html)]
    return attempt_id, token, links


def verdict(kind=None) -> tuple[str, str]:
    event = Event.objects.filter(**({"kind": kind} if kind else {})).latest("id")
    return event.verdict, event.verdict_reason


def open_pixel(token, ua, ip="203.0.113.7"):
    Browser().get(f"/t/o/{token}/", HTTP_USER_AGENT=ua, REMOTE_ADDR=ip)


def test_apple_mpp_open_by_user_agent_and_by_address(sent):
    _, token, _ = sent
    open_pixel(token, APPLE_MPP, ip="203.0.113.7")
    assert verdict()[0] == V.APPLE_MPP
    open_pixel(token, FIREFOX, ip="17.58.100.1")
    assert verdict() == (V.APPLE_MPP, "address 17.58.100.1 in Apple's proxy ranges")


def test_image_proxy_open(sent):
    open_pixel(sent[1], GMAIL_PROXY, ip="66.249.84.1")
    assert verdict()[0] == V.PROXY


def test_human_open(sent):
    open_pixel(sent[1], FIREFOX)
    assert verdict() == (V.HUMAN, "no machine sign")


def test_scanner_user_agent_click(sent):
    Browser().get(sent[2][0], HTTP_USER_AGENT=SCANNER)
    assert verdict()[0] == V.SCANNER


def test_head_before_get_is_a_scanner(sent):
    http = Browser()
    http.head(sent[2][0], HTTP_USER_AGENT=FIREFOX)
    http.get(sent[2][0], HTTP_USER_AGENT=FIREFOX)
    assert verdict() == (V.SCANNER, "a HEAD request before the GET")


def test_a_click_seconds_after_sending_is_a_scanner(sent):
    attempt_id, _, links = sent
    Attempt.objects.filter(pk=attempt_id).update(attempted_at=timezone.now())
    Browser().get(links[0], HTTP_USER_AGENT=FIREFOX)
    kind, reason = verdict()
    assert kind == V.SCANNER and "after sending" in reason


def test_every_link_at_once_is_a_scanner_one_link_is_human(sent):
    _, _, links = sent
    http = Browser()
    http.get(links[0], HTTP_USER_AGENT=FIREFOX)
    assert verdict() == (V.HUMAN, "no machine sign")
    http.get(links[1], HTTP_USER_AGENT=FIREFOX)
    assert verdict() == (V.SCANNER, "all 2 links clicked at once")
    assert TrackedLink.objects.count() == 2


def test_the_rules_are_data_that_can_be_updated(tmp_path):
    from mailing.classification import DEFAULT_AGENTS

    data = json.loads(DEFAULT_AGENTS.read_text())
    data["scanners"].append("AcmeGateway")
    data["apple_mpp"]["networks"].append("198.51.100.0/24")
    path = tmp_path / "agents.json"
    path.write_text(json.dumps(data))
    click = Hit(kind=Event.Kind.CLICKED, user_agent="AcmeGateway/1.0")
    open_ = Hit(kind=Event.Kind.OPENED, user_agent=FIREFOX, ip="198.51.100.9")

    assert classify(click)[0] == V.HUMAN
    with override_settings(ENGAGEMENT_AGENTS_FILE=str(path)):
        assert classify(click)[0] == V.SCANNER
        assert classify(open_)[0] == V.APPLE_MPP


def test_an_esp_proxy_open_and_an_esp_image_proxy_open():
    proxy = Hit(kind=Event.Kind.OPENED, esp_says_proxy=True)
    gmail = Hit(kind=Event.Kind.OPENED, user_agent=GMAIL_PROXY)

    assert classify(proxy)[0] == V.APPLE_MPP
    assert classify(gmail)[0] == V.PROXY
