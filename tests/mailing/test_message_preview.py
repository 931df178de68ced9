"""Writing: the editor's preview (email, text part, spam score) and its test send."""

import shutil
from email import message_from_bytes, policy

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from wagtail.admin.panels import get_edit_handler

from mailing import spam
from mailing.models import Message
from mailing.previews import sample_email
from mailing.rendering import prepare_message
from tests.factories import make_letter, make_sender, make_user

from .email_parts import html_part

pytestmark = pytest.mark.django_db

SPAMASSASSIN = shutil.which("spamassassin")
needs_spamassassin = pytest.mark.skipif(
    SPAMASSASSIN is None, reason="needs SpamAssassin: apt-get install spamassassin"
)


def preview(client, message, mode=""):
    """What Wagtail's preview panel shows in `mode`: it posts the editor's form,
    then loads the preview of what was posted."""
    url = reverse("mailing_message:preview_on_edit", args=[message.pk])
    form_class = get_edit_handler(Message).get_form_class()
    rich_text = form_class.base_fields["html_body"].widget.format_value(
        message.html_body
    )
    form = {"subject": message.subject, "body": message.body, "html_body": rich_text}
    if message.sender_id:
        form["sender"] = message.sender_id
    client.post(url, form)
    return client.get(url, {"mode": mode} if mode else {})


def test_the_editor_previews_an_unsaved_new_message(client):
    owner = make_user(language="en")
    client.force_login(owner)
    url = reverse("mailing_message:preview_on_add")
    form = {"subject": "Draft for {{ full_name }}", "body": "Unsaved words"}

    stored = client.post(url, form).json()
    shown = client.get(url)

    assert stored["is_valid"] is True
    assert shown.status_code == 200
    assert "Unsaved words" in shown.content.decode()
    assert "Unsubscribe" in shown.content.decode()
    assert "script-src" not in shown["Content-Security-Policy"]
    assert "default-src 'none'" in shown["Content-Security-Policy"]
    assert not Message.objects.exists()


def test_preview_modes_show_the_email_and_its_text_part(client):
    owner = make_user(language="en")
    sender = make_sender(owner, from_email="news@shop.example", reply_to="h@x.org")
    message = make_letter(owner, "en", sender=sender)
    client.force_login(owner)

    email = preview(client, message).content.decode()
    text = preview(client, message, "text").content.decode()

    assert "What is new this week" in email and "<table" in email
    assert "news@shop.example" in text and "h@x.org" in text
    assert "What is new this week" in text and "<h2" not in text.split("<pre", 1)[1]


def test_another_owner_cannot_preview_a_message(client):
    message = make_letter(make_user())
    client.force_login(make_user())

    response = preview(client, message)

    assert response.status_code == 302  # Wagtail's refusal
    assert "What is new" not in response.content.decode()


@needs_spamassassin
def test_the_spam_check_lists_the_score_and_the_rules_that_fired(client):
    owner = make_user(language="en")
    message = make_letter(
        owner, "en", subject="FREE MONEY!!! CLICK NOW", extra_html="<p>Viagra</p>"
    )
    client.force_login(owner)

    page = preview(client, message, "spam").content.decode()

    assert 'data-testid="spam-score"' in page
    assert 'data-testid="spam-rule"' in page


def test_the_spam_check_scores_the_headers_a_mailing_email_has():
    """SpamAssassin scores a List-Unsubscribe without List-Id: the sample it checks
    carries the same list headers as a sent email (sending.mime.mailing_headers)."""
    message = make_letter(make_user(language="en"), "en")

    sample = sample_email(prepare_message(message), "Anna", "anna@example.org")

    headers = message_from_bytes(sample, policy=policy.default)
    assert headers["List-Id"].startswith("<mailing-preview.")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].count("<") == 2  # the URL and the mailto


@override_settings(SPAMASSASSIN_COMMAND="/nonexistent/spamassassin")
def test_the_spam_check_says_when_spamassassin_is_not_installed(client):
    owner = make_user(language="en")
    client.force_login(owner)

    page = preview(client, make_letter(owner, "en"), "spam").content.decode()

    assert 'data-testid="spam-unavailable"' in page
    assert "spamassassin" in page  # the Debian package to install


def test_spamassassins_report_is_read_from_its_last_table():
    output = (
        "X-Spam-Status: No, score=1.3 required=5.0 tests=HTML_MESSAGE,MPART_ALT_DIFF\n"
        "\n---- not a report: a line of the email itself\n"
        "Content analysis details:   (1.3 points, 5.0 required)\n\n"
        " pts rule name              description\n"
        "---- ---------------------- --------------------------------------------\n"
        " 0.0 HTML_MESSAGE           BODY: HTML included in message\n"
        " 0.7 MPART_ALT_DIFF         BODY: HTML and text parts are different\n"
        " 0.6 LONG_RULE              A description that goes on\n"
        "                            over two lines\n\n"
    )

    report = spam.parse(output)

    assert (report.available, report.score, report.required) == (True, 1.3, 5.0)
    assert [rule.name for rule in report.fired] == ["MPART_ALT_DIFF", "LONG_RULE"]
    assert report.fired[1].description == "A description that goes on over two lines"


def test_the_editor_sends_a_test_to_its_own_address_before_any_mailing(client):
    owner = make_user(email="writer@example.com", language="en")
    message = make_letter(owner, "en")
    client.force_login(owner)
    url = reverse("mailing_message:send_test", args=[message.pk])

    edit_page = client.get(reverse("mailing_message:edit", args=[message.pk]))
    asked = client.get(url)
    assert asked.status_code == 200 and not mail.outbox
    sent = client.post(url)

    assert url in edit_page.content.decode()
    assert sent.status_code == 302
    assert [email.to for email in mail.outbox] == [["writer@example.com"]]
    assert "What is new this week" in html_part(mail.outbox[0])
    assert not message.mailings.exists()


def test_another_owner_cannot_send_a_test_of_a_message(client):
    message = make_letter(make_user())
    client.force_login(make_user())

    response = client.post(reverse("mailing_message:send_test", args=[message.pk]))

    assert response.status_code == 302
    assert not mail.outbox
