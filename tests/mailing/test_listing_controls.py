"""A listing offers only the controls its viewer can use: row checkboxes and the
bulk bar where a bulk action is theirs, and no "More" menu that repeats the
row's own link."""

import re

import pytest
from django.urls import reverse

CHECKBOX = 'class="bulk-action-checkbox"'
BULK_BAR = "bulk-actions-choices"


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
