"""The public archive in Chromium, Russian and English: each screen's header is its
title, the issue's email shows in its frame addressed to nobody. Screenshots in
.test-artifacts/archive-screenshots/<language>-<screen>.png."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from archive.models import ArchivePage
from mailing import services
from mailing.sending import pipeline
from tests.factories import (
    home_page,
    make_client,
    make_letter,
    make_mailing,
    make_user,
    translate,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SCREENSHOTS = Path(settings.BASE_DIR) / ".test-artifacts" / "archive-screenshots"
READER = {"ru": "читатель", "en": "reader"}
TITLE = {"ru": "Архив рассылок", "en": "Archive"}


@pytest.fixture
def close_connections():
    yield
    connections.close_all()


def issue(language, base_url):
    owner = make_user(language=language)
    with override_settings(BASE_URL=base_url):
        letter = make_letter(owner, language, subject="{{ full_name }}: " + language)
        client = make_client(owner, full_name="Private Person")
        mailing = make_mailing(
            owner, name=f"Letters {language}", message=letter, clients=[client]
        )
        mailing.public_archive = True
        mailing.save()
        run = services.open_run(mailing, "manual", timezone.now())
        pipeline.send_run(run.pk)
    return mailing, run


def test_the_archive_screens_in_both_languages(live_server, page, close_connections):
    archive = home_page().add_child(
        instance=ArchivePage(title=TITLE["ru"], slug="archive")
    )
    archive.save_revision().publish()
    # The English tree has the archive's translation (Wagtail i18n): /en/archive/.
    translate(archive, title=TITLE["en"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1000, "height": 900})

    for language, prefix in (("ru", ""), ("en", "/en")):
        mailing, run = issue(language, live_server.url)
        screens = {
            "index": (f"{prefix}/archive/", TITLE[language]),
            "issues": (f"{prefix}/archive/{mailing.pk}/", mailing.name),
            "issue": (
                f"{prefix}/archive/{mailing.pk}/{run.pk}/",
                f"{READER[language]}: {language}",
            ),
        }
        for screen, (path, header) in screens.items():
            page.goto(live_server.url + path)
            assert page.locator("h1").inner_text() == header, (language, screen)
            if screen == "issue":
                frame = page.frame_locator("iframe")
                body = frame.locator("body")
                body.wait_for()
                assert READER[language] in body.inner_text()
                assert "Private Person" not in body.inner_text()
            page.screenshot(
                path=SCREENSHOTS / f"{language}-{screen}.png", full_page=True
            )
