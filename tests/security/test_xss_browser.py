"""Stored XSS, judged by a real browser: no script dialog may ever open.

An XSS corpus goes into every user-written field (client names and comments,
message subjects and bodies, mailing names, user names, page titles). Then every
page the URL walk finds that the owner, a manager or an editor may open is loaded in
headless Chromium with a handler counting alert / confirm / prompt dialogs.
"""

from __future__ import annotations

import fnmatch
import os

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.utils.html import escape

from mailing.models import Client, Mailing, Message
from tests.factories import make_client, make_mailing, make_message
from tests.security.access import outcome
from tests.security.urlwalk import walk

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
XSS = [
    "<script>alert('xss-1')</script>",
    "<img src=x onerror=alert('xss-2')>",
    "<svg onload=alert('xss-3')>",
    '"><script>alert("xss-4")</script>',
    "'><img src=x onerror=confirm('xss-5')>",
    '" autofocus onfocus=alert("xss-6") x="',
    "<a href=\"javascript:alert('xss-7')\">click</a>",
    "</title><script>prompt('xss-8')</script>",
    "<iframe srcdoc=\"<script>parent.alert('xss-9')</script>\">",
    "{{ settings.SECRET_KEY }}{% debug %}<details open ontoggle=alert('xss-10')>",
]
# Wagtail's own areas that show no user-written mailing text, and addresses that
# end the session or are not pages.
NOT_RENDERED = (
    "wagtailadmin_api:*", "wagtailimages*", "wagtaildocs*", "wagtailadmin_workflows:*",
    "wagtailsites:*", "wagtailredirects:*", "wagtailadmin_collections:*",
    "wagtailforms:*", "wagtailembeds:*", "wagtailadmin_sprite", "wagtailusers_*",
    "wagtailadmin_javascript_catalog", "anymail:*", "healthz", "*logout*",
    "set_language", "wagtailadmin_error_test", "wagtailadmin_reports:*",
)  # fmt: skip
ROLES = ("user_a", "manager", "editor")
PROBE = "{{ settings.SECRET_KEY }}"
DEBUG_DUMP = "<module 'sys'"  # what {% debug %} prints when it runs


def fit(model, field: str, text: str) -> str:
    limit = model._meta.get_field(field).max_length
    return text[:limit] if limit else text


def plant_corpus(world) -> int:
    """The corpus in every user-written field; returns the number of payloads."""
    owner = world.users["user_a"]
    everything = "".join(XSS)
    for payload in XSS:
        client = make_client(owner, full_name=payload, comment=payload)
        message = make_message(
            owner, subject=payload, body=payload, html_body=f"<p>{payload}</p>"
        )
        make_mailing(owner, clients=[client], message=message, name=payload)
    # The objects the walker's addresses name carry every payload at once.
    objects = world.objects_a
    Client.objects.filter(pk=objects[Client].pk).update(
        full_name=fit(Client, "full_name", everything), comment=everything
    )
    # Raw markup in html_body (above) tests the sanitiser of previews and reports;
    # the message whose edit page is opened holds what Wagtail's editor stores when
    # someone types the corpus: escaped text. (Raw markup there makes Wagtail's
    # editor raise "Unmatched tags": data no form can store, reported to the lead.)
    Message.objects.filter(pk=objects[Message].pk).update(
        subject=fit(Message, "subject", everything),
        body=everything,
        html_body=f"<p>{escape(everything)}</p>",
    )
    Mailing.objects.filter(pk=objects[Mailing].pk).update(
        name=fit(Mailing, "name", everything)
    )
    owner.first_name, owner.last_name = XSS[1][:150], XSS[0][:150]
    owner.save()
    world.page.title = XSS[7]
    world.page.save_revision().publish()
    return len(XSS)


def pages_for(world, role: str) -> list[str]:
    http = world.client_for(role, raise_request_exception=False)
    paths = []
    for target in walk(world.filler()).targets:
        name = target.route.name
        if any(fnmatch.fnmatchcase(name, p) for p in NOT_RENDERED):
            continue
        if outcome(http.get(target.path)) == "ok":
            paths.append(target.path)
    return paths


def session_cookie(user, base_url: str) -> dict:
    http = HttpClient()
    http.force_login(user)
    value = http.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": base_url}


def record_dialog(dialogs: list, role: str):
    def handler(dialog):
        dialogs.append((role, dialog.type, dialog.message))
        dialog.dismiss()

    return handler


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def test_no_script_dialog_fires_on_any_page_showing_user_text(
    world, live_server, chromium
):
    payloads = plant_corpus(world)
    dialogs, rendered, errors, literal = [], 0, [], 0
    for role in ROLES:
        context = chromium.new_context()
        context.add_cookies([session_cookie(world.users[role], live_server.url)])
        page = context.new_page()
        page.on("dialog", record_dialog(dialogs, role))
        for path in pages_for(world, role):
            response = page.goto(live_server.url + path, wait_until="load")
            if response is not None and response.status >= 500:
                errors.append(f"{role} {path}: {response.status}")
            page.wait_for_timeout(50)  # let onerror / ontoggle handlers run
            rendered += 1
            html = page.content()
            if settings.SECRET_KEY in html or DEBUG_DUMP in html.replace("&#x27;", "'"):
                errors.append(f"{role} {path}: a template probe was evaluated")
            literal += PROBE in html
        context.close()
    print(
        f"XSS in the browser: {payloads} payloads in every user-written field, "
        f"{rendered} page loads as {', '.join(ROLES)}, dialogs fired: {len(dialogs)}, "
        f"pages showing the template probe literally: {literal}"
        + "".join(f"\n  {role}: {kind} {message!r}" for role, kind, message in dialogs)
    )
    assert rendered > 0
    assert dialogs == []
    assert errors == []
    assert literal > 0, "the probe should be shown as typed somewhere"
