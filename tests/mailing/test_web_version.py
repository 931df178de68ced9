"""Each sent email's "view in browser" page: signed per recipient, personalised,
that run's email, nothing recorded; a bad or forged link is a 404."""

import re
from email import message_from_bytes

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mailing import services
from mailing.issues import web_version_token
from mailing.rendering import prepare_message
from mailing.sending import pipeline
from mailing.sending.mime import RunWire
from mailing.unsubscribe import make_token
from tests.factories import make_client, make_mailing, make_message, make_user

from .email_parts import html_part, links

pytestmark = pytest.mark.django_db

WEB_PATH = re.compile(r"/web/([^/]+)/$")


def send_to(owner, clients, message=None):
    mailing = make_mailing(owner, clients=clients, message=message)
    run = services.open_run(mailing, "manual", timezone.now())
    pipeline.send_run(run.pk)
    return run, {email.to[0]: email for email in mail.outbox}


def web_link(email) -> str:
    found = [value for _t, _a, value in links(html_part(email)) if "/web/" in value]
    assert len(found) == 1, found
    return found[0]


def local(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_each_recipient_gets_their_own_link_to_their_own_email(client):
    owner = make_user(language="en")
    anna = make_client(owner, full_name="Anna Karenina", email="anna@example.org")
    boris = make_client(owner, full_name="Boris Godunov", email="boris@example.org")
    _run, sent = send_to(owner, [anna, boris])
    anna_mail = next(e for to, e in sent.items() if "anna@" in to)
    boris_mail = next(e for to, e in sent.items() if "boris@" in to)

    anna_url, boris_url = web_link(anna_mail), web_link(boris_mail)
    page = client.get(local(anna_url))
    shown = page.content.decode()

    assert anna_url != boris_url
    assert anna_url.startswith("http") and WEB_PATH.search(anna_url)
    assert f"View in browser: {anna_url}" in anna_mail.body  # the text part too
    assert page.status_code == 200
    assert "Anna Karenina" in shown and "anna@example.org" in shown
    assert "Boris" not in shown
    assert f"/unsubscribe/{make_token(anna.pk)[:8]}" in shown  # her own way out
    assert "/web/" not in shown  # the page does not link to itself
    assert "script-src" not in page["Content-Security-Policy"]
    assert "default-src 'none'" in page["Content-Security-Policy"]
    assert "noindex" in page["X-Robots-Tag"]


def test_the_page_shows_that_runs_email_after_the_message_changes(client):
    owner = make_user(language="en")
    message = make_message(owner, subject="First issue", body="Old words")
    _run, sent = send_to(owner, [make_client(owner)], message)
    message.subject, message.body = "Edited later", "New words"
    message.save()

    shown = client.get(local(web_link(next(iter(sent.values()))))).content.decode()

    assert "First issue" in shown and "Old words" in shown
    assert "Edited later" not in shown and "New words" not in shown


def test_opening_the_page_records_nothing(client):
    owner = make_user()
    _run, sent = send_to(owner, [make_client(owner)])
    url = local(web_link(next(iter(sent.values()))))

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200

    writes = [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].lstrip().upper().startswith(("SELECT", "SAVEPOINT", "RELEASE"))
    ]
    assert writes == []
    assert not client.cookies  # no session, no tracking cookie either


def test_bad_and_forged_links_are_not_found(client):
    owner, other = make_user(), make_user()
    mine = make_client(owner)
    theirs = make_client(other, full_name="Secret Person")
    run, sent = send_to(owner, [mine])
    token = WEB_PATH.search(web_link(next(iter(sent.values())))).group(1)
    value, stamp, signature = token.split(":")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    forged = [
        "not-a-token",
        f"{value}:{stamp}:{flipped}",  # changed signature
        f"{web_version_token(run.pk, mine.pk + 1000)}",  # no such client
        make_token(mine.pk),  # an unsubscribe token: another salt
        # Signed by us, but the client is another owner's: never their mail.
        web_version_token(run.pk, theirs.pk),
        web_version_token(run.pk + 1000, mine.pk),  # no such run
    ]
    for bad in forged:
        response = client.get(f"/web/{bad}/")
        assert response.status_code == 404, bad
        assert "Secret Person" not in response.content.decode()


def test_the_smtp_wire_carries_the_link_too():
    owner = make_user(language="en")
    prepared = prepare_message(make_message(owner))
    wire = RunWire(prepared, "site@example.com")

    data = wire.build("A", "a@example.org", "https://x/u/", {}, "https://x/web/t/")
    parsed = message_from_bytes(data)
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in parsed.walk()
        if not p.is_multipart()
    }

    assert 'href="https://x/web/t/"' in parts["text/html"]
    assert "View in browser: https://x/web/t/" in parts["text/plain"]
