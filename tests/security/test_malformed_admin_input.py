"""Issue 11 finding 5 (the admin half): malformed input is refused, never a 500."""

import io

import pytest
from openpyxl import load_workbook

from mailing.models import Client, Message
from tests.factories import make_client, make_message, make_user
from tests.security.access import outcome
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["mailing_user", "superuser"])
def test_finding5_creating_a_client_from_the_chooser_is_refused(role):
    http = signed_in(make_user(role))

    response = http.post(
        "/admin/snippets/choose/mailing/client/create/",
        {"email": "new@example.org", "full_name": "New"},
    )

    assert outcome(response) == "deny"
    assert outcome(http.get("/admin/snippets/choose/mailing/client/create/")) == "deny"
    assert not Client.objects.exists()


def message_data(**fields):
    return {"subject": "Hello", "body": "Plain text", **fields}


def test_finding5_message_with_an_empty_html_body_is_saved_without_one():
    user = make_user()
    response = signed_in(user).post(
        "/admin/mailing/messages/add/", message_data(html_body="")
    )

    assert response.status_code == 302
    assert Message.objects.get(owner=user).html_body == ""


# JSON may escape a lone surrogate: the HTML made of it failed the sanitiser's UTF-8
# encoding, a 500 (found by the outside run).
LONE_SURROGATE = (
    '{"blocks": [{"key": "a", "type": "unstyled", "depth": 0, "text": "x\\ud800y",'
    ' "inlineStyleRanges": [], "entityRanges": []}], "entityMap": {}}'
)


@pytest.mark.parametrize(
    "html_body",
    [
        *("x", "[]", '"text"', "5", '{"blocks": 5}', '{"blocks": [{"text": 1}]}'),
        LONE_SURROGATE,
    ],
)
def test_finding5_malformed_editor_content_is_a_400_with_a_reason(html_body):
    user = make_user()
    message = make_message(user, subject="Kept", html_body="<p>kept</p>")
    http = signed_in(user)

    response = http.post(
        f"/admin/mailing/messages/edit/{message.pk}/",
        message_data(html_body=html_body),
    )

    assert response.status_code == 400
    # In the admin's language for this user (Russian unless they chose English).
    assert "поэтому ничего не сохранено" in response.content.decode()
    message.refresh_from_db()
    assert (message.subject, message.html_body) == ("Kept", "<p>kept</p>")


# XLSX cannot hold most control characters; the export shows U+FFFD in their place.
REPLACEMENT = "\ufffd"


def xlsx_names(response) -> set:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    return {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}


@pytest.fixture
def control_characters():
    owner = make_user(email="owner@example.com")
    make_client(owner, email="vt@example.org", full_name="Tab\x0bName")
    make_client(make_user(), email="other@example.org", full_name="Other\x0cOwner")
    return owner


def test_finding5_xlsx_export_of_a_name_with_a_vertical_tab(control_characters):
    http = signed_in(control_characters)

    names = xlsx_names(http.get("/admin/mailing/clients/?export=xlsx"))

    assert names == {f"Tab{REPLACEMENT}Name"}


def test_finding5_managers_all_owner_xlsx_export_survives_control_characters(
    control_characters,
):
    http = signed_in(make_user("manager"))

    names = xlsx_names(http.get("/admin/mailing/clients/?export=xlsx"))

    assert names == {f"Tab{REPLACEMENT}Name", f"Other{REPLACEMENT}Owner"}
