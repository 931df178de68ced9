"""The demo site in Chromium, in both languages: /en/ serves English pages (no
Cyrillic in their main content) and the switcher on a post lands on its
translation. Screenshots in .test-artifacts/language-screenshots/."""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from blog.demo import seed

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SCREENSHOTS = Path(settings.BASE_DIR) / ".test-artifacts" / "language-screenshots"
CYRILLIC = re.compile("[\u0400-\u04ff]")
POST = {
    "ru": ("/blog/chto-vidno-v-otchetah/", "Что видно в отчётах"),
    "en": ("/en/blog/what-reports-show/", "What reports show"),
}


@pytest.fixture
def demo_site():
    seed(io.StringIO())
    yield
    connections.close_all()


def shoot(page, name: str) -> None:
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_english_pages_are_english(live_server, page, demo_site):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 900})
    for path in ("/en/", "/en/blog/", POST["en"][0]):
        page.goto(live_server.url + path)
        main = page.locator("main").inner_text()
        assert main.strip(), path
        assert not CYRILLIC.findall(main), (path, CYRILLIC.findall(main)[:10])
        assert page.locator("html").get_attribute("lang") == "en"
    menu = page.locator("#main-nav .navbar-nav").first.inner_text()
    assert "Blog" in menu and not CYRILLIC.search(menu)
    shoot(page, "en-post")
    page.goto(live_server.url + "/en/")
    shoot(page, "en-home")
    page.goto(live_server.url + "/")
    assert "Рассылки клиентам по расписанию" in page.locator("main").inner_text()
    shoot(page, "ru-home")


@pytest.mark.parametrize(("start", "target"), [("ru", "en"), ("en", "ru")])
def test_the_switcher_on_a_post_lands_on_its_translation(
    live_server, page, demo_site, start, target
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(live_server.url + POST[start][0])
    if start == "ru":
        shoot(page, "ru-post")
    page.locator(f'nav a[hreflang="{target}"]').click()
    page.wait_for_url(live_server.url + POST[target][0])
    assert page.locator("h1").inner_text() == POST[target][1]
    assert page.locator("html").get_attribute("lang") == target
