"""Account emails as a mail server receives them: parsed from the bytes an SMTP
server on loopback got, in each user's language, and rendered in Chromium."""

from pathlib import Path

import pytest
from django.conf import settings

from accounts import emails
from tests.factories import make_user
from tests.mailing.received import parts, receiving, site_email_problems

pytestmark = pytest.mark.django_db

SCREENSHOTS = Path(settings.BASE_DIR) / ".test-artifacts" / "email-screenshots"
# Valid in an address, and escaped as HTML by a template that autoescapes.
ADDRESS = "o'neil&co@example.com"


def every_account_email(language: str) -> list:
    """The five account emails to a user whose address has ' and & in it."""
    user = make_user(email=ADDRESS, language=language, email_verified_at=None)
    with receiving() as server:
        emails.send_verification_email(user.pk)
        emails.send_existing_account_email(user.pk)
        emails.send_email_change_link(user.pk, "new&co@example.com")
        emails.send_password_reset_email(user.pk)
        emails.send_email_changed_notice(user.pk, ADDRESS)
    return server.messages


@pytest.mark.parametrize("language", ["ru", "en"])
def test_each_account_email_arrives_whole_and_in_the_users_language(language):
    """Seen on the wire: Message-IDs named the machine (@localhost), the text
    part escaped addresses as HTML (o&#x27;neil) and lacked the HTML's footer."""
    received = every_account_email(language)

    assert len(received) == 5
    for email in received:
        assert site_email_problems(email, language) == [], email["Subject"]
    change_text, _html = parts(received[2])
    assert ADDRESS in change_text and "new&co@example.com" in change_text
    prefix = "/en/" if language == "en" else "/accounts/"
    for email in received:
        assert f"https://mail.vestnik.example{prefix}" in parts(email)[0]


@pytest.fixture(params=["ru", "en"])
def received(request) -> tuple[str, list]:
    # Before Chromium starts: SQLite's in-memory database is locked while it runs.
    return request.param, every_account_email(request.param)


@pytest.mark.e2e
def test_account_emails_fit_a_phone_screen(received, page):
    """The card was 560 px wide whatever the screen: 209 px ran off a phone."""
    language, received = received
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    for number, email in enumerate(received):
        html = parts(email)[1]
        for width in (600, 375):
            page.set_viewport_size({"width": width, "height": 800})
            page.set_content(html, wait_until="load")
            name = f"account-{number}-{language}-{width}.png"
            page.screenshot(path=SCREENSHOTS / name, full_page=True)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, (email["Subject"], width, scroll)
