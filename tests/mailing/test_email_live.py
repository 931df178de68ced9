"""Sent emails against the running site: every link and image answers, and Chromium
renders both shared layouts at desktop and phone widths without overflow.

Screenshots land in .test-artifacts/email-screenshots/ (git-ignored) for a person to
look at: <language>-<width>.png, plus <language>-600-dark.png.
"""

import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from mailing import services
from mailing.sending import pipeline
from tests.factories import (
    make_client,
    make_image,
    make_letter,
    make_mailing,
    make_sender,
    make_user,
)

from .email_parts import html_part, links
from .test_composition import everything

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Wagtail caches renditions by image id, and ids restart with each test
    database while Redis keeps the cache: a stale entry would show another image."""
    cache.clear()
    yield
    cache.clear()


SCREENSHOTS = Path(settings.BASE_DIR) / ".test-artifacts" / "email-screenshots"
EXTERNAL = "https://example.org/x"  # the one link everything() makes to another site
WIDTHS = (600, 375)
SENDERS = {
    "ru": {
        "from_name": "Книжная лавка «Переплёт»",
        "postal_address": "ООО «Переплёт», ул. Тверская, 12, Москва, 125009",
    },
    "en": {
        "from_name": "Corner Bookshop",
        "postal_address": "Corner Bookshop Ltd, 12 High Street, Bath BA1 1AA, UK",
    },
}
OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const outside = [];
    for (const el of document.querySelectorAll("body *")) {
        const box = el.getBoundingClientRect();
        if (box.width && (box.right > width + 0.5 || box.left < -0.5)) {
            outside.push(`${el.tagName}.${el.className} ${box.left}-${box.right}`);
        }
    }
    return {width, scroll: document.documentElement.scrollWidth, outside};
}"""


@pytest.fixture
def close_connections():
    """Queries made while Playwright runs open a connection pytest-django never
    sees: close it, or the test database cannot be dropped."""
    yield
    connections.close_all()


def send_one(owner, message, track_engagement=False) -> object:
    # Untracked unless asked: the links as written (tracked ones: test_tracking).
    mailing = make_mailing(
        owner,
        message=message,
        clients=[make_client(owner)],
        track_engagement=track_engagement,
    )
    run = services.open_run(mailing, "manual", timezone.now())
    pipeline.send_run(run.pk)
    return mail.outbox[-1]


def fetch_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - our server
        return response.status


def test_every_link_and_image_of_a_sent_email_answers_200(live_server):
    with override_settings(BASE_URL=live_server.url):
        owner = make_user()
        message, _objects = everything(owner)
        sent = send_one(owner, message)
    found = [value for _tag, _attribute, value in links(html_part(sent))]
    ours = [url for url in found if url != EXTERNAL]

    statuses = {url: fetch_status(url) for url in ours}

    assert len(ours) >= 8, found
    assert all(url.startswith(live_server.url + "/") for url in ours), ours
    assert statuses == dict.fromkeys(ours, 200)
    print(f"checked {len(statuses)} links and images of the sent email: all 200")


@pytest.mark.e2e
@pytest.mark.parametrize("language", ["ru", "en"])
def test_both_shared_layouts_render_in_chromium_without_overflow(
    live_server, language, page, close_connections
):
    image = make_image("Harbour", size=(1200, 600), colour=(30, 120, 200))
    with override_settings(BASE_URL=live_server.url):
        owner = make_user(language=language, first_name="Анна", last_name="Петрова")
        extra = (
            f'<embed embedtype="image" id="{image.pk}" format="fullwidth" '
            'alt="Harbour"/><p>https://example.org/a-very-long-address-that-must-wrap'
            "-on-a-phone-screen-instead-of-overflowing-its-column</p>"
        )
        sender = make_sender(owner, **SENDERS[language])
        letter = make_letter(owner, language, extra_html=extra, sender=sender)
        html = html_part(send_one(owner, letter))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.set_content(html, wait_until="load")
        layout = page.evaluate(OVERFLOW)
        page.screenshot(path=SCREENSHOTS / f"{language}-{width}.png", full_page=True)

        assert layout["scroll"] <= layout["width"], layout
        assert layout["outside"] == [], layout
        assert page.evaluate(
            "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
        )
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size({"width": 600, "height": 900})
    page.set_content(html, wait_until="load")
    page.screenshot(path=SCREENSHOTS / f"{language}-600-dark.png", full_page=True)
