"""The Attempts listing in Chromium: rows not tried yet first, then the tried ones
newest first, page after page, in Russian and in English (mailing.keyset reads the
two apart). Screenshots land in .test-artifacts/attempt-pages/ (git-ignored)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from wagtail.users.models import UserProfile

from mailing.models import Attempt, MailingRun
from tests.factories import make_client, make_mailing, make_user
from tests.mailing.test_e2e_workspace import sign_in

SCREENSHOTS = Path(settings.BASE_DIR) / ".test-artifacts" / "attempt-pages"


def run_with_rows(owner) -> list[str]:
    """Three rows waiting and four sent; their addresses in the listing's order."""
    mailing = make_mailing(owner)
    run = MailingRun.objects.create(
        mailing=mailing, kind="manual", slot=timezone.now(), status="running"
    )
    sent_at = timezone.now() - timedelta(hours=1)
    rows = []
    for n in range(7):
        tried = n >= 3
        rows.append(
            Attempt.objects.create(
                run=run,
                mailing=mailing,
                client=make_client(owner, email=f"r{n}@example.org"),
                status="success" if tried else "pending",
                attempted_at=sent_at + timedelta(minutes=n) if tried else None,
            )
        )
    untried = sorted(rows[:3], key=lambda a: -a.pk)
    tried = sorted(rows[3:], key=lambda a: a.attempted_at, reverse=True)
    return [a.client.email for a in untried + tried]


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_pages_of_attempts_waiting_then_sent_in_chromium(
    live_server, browser, language
):
    owner = make_user(email=f"owner-{language}@example.com")
    UserProfile.objects.update_or_create(
        user=owner, defaults={"preferred_language": language}
    )
    expected = run_with_rows(owner)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, live_server.url, owner.email)
    page.goto(live_server.url + "/admin/mailing/attempts/?per_page=2")
    seen = []
    for number in range(1, 5):
        page.screenshot(path=SCREENSHOTS / f"{language}-page{number}.png")
        table = page.locator("table.listing").inner_text()
        seen += re.findall(r"r\d@example\.org", table)
        older = page.locator('[data-testid="older"]')
        if not older.count():
            break
        older.click()
        page.wait_for_load_state()

    assert seen == expected
