"""Issue 11 finding 5 (the admin half): malformed input is refused, never a 500."""

import pytest
from django.test import Client as HttpClient

from mailing.models import Client, Message
from tests.factories import make_message, make_user
from tests.security.access import outcome

pytestmark = pytest.mark.django_db


def signed_in(user, **kwargs) -> HttpClient:
    http = HttpClient(raise_request_exception=False, **kwargs)
    http.force_login(user)
    return http


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


@pytest.mark.parametrize(
    "html_body",
    ["x", "[]", '"text"', "5", '{"blocks": 5}', '{"blocks": [{"text": 1}]}'],
)
def test_finding5_malformed_editor_content_is_a_400_with_a_reason(html_body):
    user = make_user()
    message = make_message(user, subject="Kept", html_body="<p>kept</p>")
    http = signed_in(user, HTTP_ACCEPT_LANGUAGE="en")

    response = http.post(
        f"/admin/mailing/messages/edit/{message.pk}/",
        message_data(html_body=html_body),
    )

    assert response.status_code == 400
    assert "so nothing was saved" in response.content.decode()
    message.refresh_from_db()
    assert (message.subject, message.html_body) == ("Kept", "<p>kept</p>")
