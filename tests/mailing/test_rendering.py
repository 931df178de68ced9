from types import SimpleNamespace

import pytest
from django.urls import reverse

from mailing.models import Message
from mailing.rendering import render_email
from tests.factories import make_message, make_user

UNSUBSCRIBE = "https://vestnik.example/unsubscribe/token/"

pytestmark = pytest.mark.django_db


def message(subject="Hi {{ full_name }}", body="", html_body=""):
    """An unsaved message of a new owner, in the shared layout of their language."""
    return Message(owner=make_user(), subject=subject, body=body, html_body=html_body)


def client(full_name="Анна", email="anna@example.org"):
    return SimpleNamespace(full_name=full_name, email=email)


def test_whitelisted_placeholders_are_filled_in_every_part():
    rendered = render_email(
        message(body="{{full_name}} <{{ email }}>: {{ unsubscribe_url }}"),
        client(),
        UNSUBSCRIBE,
    )

    assert rendered.subject == "Hi Анна"
    assert rendered.text.startswith(f"Анна <anna@example.org>: {UNSUBSCRIBE}\n")
    assert "Анна &lt;anna@example.org&gt;" in rendered.html


def test_template_probes_come_out_literally():
    probe = "{{ settings.SECRET_KEY }} {% debug %} {{ full_name.__class__ }}"

    rendered = render_email(message(subject=probe, body=probe), client(), UNSUBSCRIBE)

    assert rendered.subject == probe
    assert rendered.text.startswith(probe + "\n")


def test_line_breaks_never_reach_the_subject():
    rendered = render_email(
        message(subject="Hi {{ full_name }}"),
        client(full_name="Eve\r\nBcc: victim@example.org"),
        UNSUBSCRIBE,
    )

    assert "\r" not in rendered.subject and "\n" not in rendered.subject
    assert rendered.subject == "Hi Eve Bcc: victim@example.org"


def test_user_html_is_sanitised_and_values_escaped():
    rendered = render_email(
        message(html_body='<p onclick="x()">Hi {{ full_name }}</p><script>x</script>'),
        client(full_name="<img src=x onerror=alert(1)>"),
        UNSUBSCRIBE,
    )

    assert "<script" not in rendered.html
    assert "onclick" not in rendered.html
    assert "onerror=alert" not in rendered.html.replace("&lt;img src=x onerror", "")
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered.html


def test_html_written_around_the_editor_is_stored_sanitised_and_editable(client):
    owner = make_user()
    message = make_message(
        owner,
        html_body='<p><b>Hi</p><script>x</script><a href="/x" onclick="x()">l</a>',
    )
    message.refresh_from_db()
    client.force_login(owner)

    response = client.get(reverse("mailing_message:edit", args=[message.pk]))

    assert "<script" not in message.html_body
    assert "onclick" not in message.html_body
    assert "<b>Hi</b>" in message.html_body
    assert response.status_code == 200
