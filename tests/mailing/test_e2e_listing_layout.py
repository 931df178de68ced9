"""A wide listing in Chromium: a manager's mailings in Russian (eight columns) keep
whole action buttons and every column inside the page (static/css/admin.css)."""

import pytest
from django.urls import reverse

from tests.factories import make_mailing, make_user
from tests.mailing.test_e2e_schedule import shoot
from tests.mailing.test_e2e_workspace import sign_in

# Each action button's rendered lines, and whether any cell's text spills out.
MEASURE = """() => ({
    buttons: [...document.querySelectorAll("td.title .actions a.button")].map(
        (b) => [b.innerText.trim(), Math.round(b.getBoundingClientRect().height)]),
    spilled: [...document.querySelectorAll("table.listing td")].filter(
        (td) => td.scrollWidth > td.clientWidth + 1).map((td) => td.innerText),
    right: document.querySelector("table.listing").getBoundingClientRect().right,
})"""


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_managers_mailings_listing_keeps_buttons_whole(
    live_server, browser, language
):
    manager = make_user("manager", email="manager@vestnik.example", language=language)
    for n in (1, 2):
        owner = make_user(email=f"owner{n}@vestnik.example")
        make_mailing(owner, name="Еженедельный дайджест")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, manager.email)
    page.goto(live_server.url + reverse("mailing_mailing:list"))
    shoot(page, f"manager-mailings-{language}")

    found = page.evaluate(MEASURE)
    heights = {height for _, height in found["buttons"]}
    assert len(found["buttons"]) >= 4 and len(heights) == 1, found["buttons"]
    assert not found["spilled"]
    assert found["right"] <= 1280
