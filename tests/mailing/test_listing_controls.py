"""A listing offers only the controls its viewer can use: row checkboxes and the
bulk bar where a bulk action is theirs, and no "More" menu that repeats the
row's own link."""

import re

import pytest
from django.urls import reverse

from tests.factories import make_client, make_mailing, make_user

CHECKBOX = 'class="bulk-action-checkbox"'
BULK_BAR = "bulk-actions-choices"
# How many lines an element's text takes in the browser: the distinct tops of
# its text's line boxes.
LINES_OF_TEXT = """element => {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    const tops = new Set();
    while (walker.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(walker.currentNode);
        for (const rect of range.getClientRects()) {
            if (rect.width > 0) tops.add(Math.round(rect.top));
        }
    }
    return tops.size;
}"""


def listing(client, user, name):
    client.force_login(user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    return response.content.decode()


def rows(html):
    return [
        row for row in re.findall(r"<tr.*?</tr>", html, re.S) if "title-wrapper" in row
    ]


@pytest.mark.parametrize(
    "role, name, bulk",
    [
        ("user_a", "mailing_client:list", True),  # delete, add to a list
        ("user_a", "mailing_mailing:list", True),  # delete
        ("user_a", "mailing_attempt:list", False),  # a log: nothing to do in bulk
        ("manager", "mailing_client:list", False),  # sees, changes nothing
        ("manager", "mailing_mailing:list", False),
        ("manager", "mailing_attempt:list", False),
    ],
)
def test_row_checkboxes_and_bulk_bar_only_for_who_may_act(
    client, world, role, name, bulk
):
    html = listing(client, world["users"][role], name)
    assert rows(html), "the listing shows the owner's object"
    assert (CHECKBOX in html) is bulk
    assert (BULK_BAR in html) is bulk


def test_an_attempt_row_has_its_link_and_no_menu_repeating_it(client, world):
    attempt = world["objects"]["attempt"]
    for role in ("user_a", "manager"):
        (row,) = rows(listing(client, world["users"][role], "mailing_attempt:list"))
        inspect = reverse("mailing_attempt:inspect", args=[attempt.pk])
        assert row.count(f'href="{inspect}"') == 1
        assert "w-dropdown" not in row


def test_rows_keep_menus_and_buttons_that_add_something(client, world):
    mailing = world["objects"]["mailing"]
    (row,) = rows(listing(client, world["users"]["user_a"], "mailing_mailing:list"))
    assert "w-dropdown" in row  # edit, delete, send now, ...
    assert reverse("mailing_mailing:delete", args=[mailing.pk]) in row
    (row,) = rows(listing(client, world["users"]["manager"], "mailing_mailing:list"))
    assert reverse("mailing_mailing:disable", args=[mailing.pk]) in row
    assert reverse("mailing_mailing:report", args=[mailing.pk]) in row


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_managers_row_buttons_keep_their_words_whole(live_server, page):
    """Eight columns left the title column narrow: Chromium broke "Отключить"
    into three-letter lines until the admin's stylesheet kept each label whole."""
    from tests.factories import english
    from tests.mailing.test_e2e_workspace import sign_in

    owner = make_user("mailing_user")
    make_mailing(owner, name="Еженедельный дайджест", clients=[make_client(owner)])
    manager = make_user("manager", email="boss@example.com")
    page.set_viewport_size({"width": 1280, "height": 900})
    for language in ("ru", "en"):
        if language == "en":
            english(manager)
        sign_in(page, live_server.url, manager.email)
        page.goto(live_server.url + reverse("mailing_mailing:list"))
        buttons = page.locator(".listing td.title .actions .button")
        assert buttons.count() >= 2
        for button in buttons.all():
            lines = button.evaluate(LINES_OF_TEXT)
            assert lines == 1, (language, button.inner_text(), lines)
        page.context.clear_cookies()
