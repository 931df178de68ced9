"""Stored XSS, judged by a real browser: no script dialog may ever open.

An XSS corpus goes into every user-written field (client names and comments,
message subjects and bodies, mailing names, user names, page titles). Then every
page the URL walk finds that the owner, a manager or an editor may open is loaded in
headless Chromium with a handler counting alert / confirm / prompt dialogs.
"""

from __future__ import annotations

import fnmatch

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.utils.html import escape
from wagtail.rich_text import RichText

from mailing.models import Client, Mailing, Message
from tests.factories import make_client, make_mailing, make_message
from tests.security.test_url_access import OK, rule_for
from tests.security.urlwalk import walk

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
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
    "mailing_client:export_data",  # a JSON download (attachment), not a page
    "api:schema",  # the OpenAPI document: a YAML download, not a page
    "mailing_client:import_rejected",  # a CSV download of refused rows
    "mailing_mailinglist:export_members",  # a CSV or XLSX download of a list
    "mailing_segment:export_members",  # a CSV or XLSX download of a segment
)  # fmt: skip
ROLES = ("user_a", "manager", "editor")
PROBE = "{{ settings.SECRET_KEY }}"
DEBUG_DUMP = "<module 'sys'"  # what {% debug %} prints when it runs


def fit(model, field: str, text: str) -> str:
    limit = model._meta.get_field(field).max_length
    return text[:limit] if limit else text


def plant_corpus(world, separately: bool) -> int:
    """The corpus in every user-written field; returns the number of payloads.

    The objects the walker's addresses name carry every payload at once, in one
    value per field. With `separately` (`make stress`), each payload also gets a
    client, message and mailing of its own, so no payload hides behind another
    (the first `<script>` left open, say).
    """
    owner = world.users["user_a"]
    everything = "".join(XSS)
    if separately:
        for payload in XSS:
            client = make_client(owner, full_name=payload, comment=payload)
            message = make_message(
                owner, subject=payload, body=payload, html_body=f"<p>{payload}</p>"
            )
            make_mailing(owner, clients=[client], message=message, name=payload)
    else:
        # Raw markup in html_body tests the sanitiser of previews and reports.
        client = make_client(
            owner, full_name=fit(Client, "full_name", everything), comment=everything
        )
        message = make_message(
            owner,
            subject=fit(Message, "subject", everything),
            body=everything,
            html_body=f"<p>{everything}</p>",
        )
        make_mailing(
            owner,
            clients=[client],
            message=message,
            name=fit(Mailing, "name", everything),
        )
    objects = world.objects_a
    Client.objects.filter(pk=objects[Client].pk).update(
        full_name=fit(Client, "full_name", everything), comment=everything
    )
    # The message whose edit page is opened holds what Wagtail's editor stores when
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
    plant_in_site(world, everything)
    return len(XSS)


def plant_in_site(world, everything: str) -> None:
    """Editor-written fields of the public site: home, blog index and post."""
    # Fresh from the database: the fixture's copy predates the blog under it, and
    # saving a stale copy would write numchild=0 and cut the blog off the tree.
    home = type(world.page).objects.get(pk=world.page.pk)
    home.title = XSS[7]
    home.hero_title = fit(type(home), "hero_title", everything)
    home.hero_text = fit(type(home), "hero_text", everything)
    home.save_revision().publish()
    blog = world.extra["blog"].specific
    blog.intro = everything
    blog.save_revision().publish()
    post = world.extra["post"].specific
    post.title = fit(type(post), "title", XSS[7] + XSS[1])
    post.author = fit(type(post), "author", XSS[2])
    post.intro = fit(type(post), "intro", everything)
    post.search_description = everything
    post.body = [
        # What the rich-text editor stores for typed text: escaped.
        ("paragraph", RichText(f"<p>{escape(everything)}</p>")),
        ("quote", everything),
        ("code", {"language": XSS[5][:30], "code": everything}),
    ]
    post.save_revision().publish()


SITE_ROUTES = ("wagtail_serve", "blog_feed_rss", "blog_feed_atom")


# Pages whose content depends on who looks (the owner's rows, a manager's view of
# everyone's): rendered for every role that may open them. Any other page is
# rendered once, by the first role that may.
PER_ROLE = ("mailing_*", "wagtailadmin_home", "wagtailsnippetchoosers_*")


def pages_for(world, role: str, shown: set[str]) -> list[str]:
    """The pages `role` may open, by the access policy (test_url_access proves each
    cell of it), so no page is requested twice to find out."""
    paths = []
    for target in walk(world.filler()).targets:
        name = target.route.name
        if any(fnmatch.fnmatchcase(name, p) for p in NOT_RENDERED):
            continue
        per_role = any(fnmatch.fnmatchcase(name, p) for p in PER_ROLE)
        if target.path in shown and not per_role:
            continue
        rule = rule_for(name, target.path)
        if rule is not None and OK in rule.expected(role).split("|"):
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


def render_everywhere(world, live_server, chromium, separately: bool) -> None:
    payloads = plant_corpus(world, separately)
    site = {  # the live pages of the site and blog (a draft answers 404)
        t.path
        for t in walk(world.filler()).targets
        if t.route.name in SITE_ROUTES and "draft-probe" not in t.path
    }
    dialogs, errors, not_shown, literal = [], [], [], 0
    rendered: list[str] = []
    shown: set[str] = set()
    for role in ROLES:
        context = chromium.new_context()
        context.add_cookies([session_cookie(world.users[role], live_server.url)])
        page = context.new_page()
        page.on("dialog", record_dialog(dialogs, role))
        for path in pages_for(world, role, shown):
            response = page.goto(live_server.url + path, wait_until="load")
            status = response.status if response is not None else 0
            if status >= 500:
                errors.append(f"{role} {path}: {status}")
            if status != 200 or response.request.redirected_from is not None:
                not_shown.append((role, path, status))  # "ok|redirect" cells
                continue
            page.wait_for_timeout(30)  # let onerror / ontoggle handlers run
            rendered.append(path)
            shown.add(path)
            html = page.content()
            if settings.SECRET_KEY in html or DEBUG_DUMP in html.replace("&#x27;", "'"):
                errors.append(f"{role} {path}: a template probe was evaluated")
            literal += PROBE in html
        context.close()
    print(
        f"XSS in the browser: {payloads} payloads "
        f"({'each alone and ' if separately else ''}combined into one value) in "
        f"every user-written field, {len(rendered)} page loads as {', '.join(ROLES)} "
        f"({len(set(rendered))} distinct pages, {len(site & set(rendered))} of them "
        f"site and blog pages; {len(not_shown)} redirected), dialogs fired: "
        f"{len(dialogs)}, pages showing the template probe literally: {literal}"
        + "".join(f"\n  {role}: {kind} {message!r}" for role, kind, message in dialogs)
    )
    assert dialogs == []
    assert errors == []
    assert site <= set(rendered), (site - set(rendered), not_shown)
    assert literal > 0, "the probe should be shown as typed somewhere"


def test_no_script_dialog_fires_on_any_page_showing_user_text(
    world, live_server, browser
):
    render_everywhere(world, live_server, browser, separately=False)


@pytest.mark.stress
def test_no_script_dialog_fires_with_each_payload_on_its_own(
    world, live_server, browser
):
    render_everywhere(world, live_server, browser, separately=True)
