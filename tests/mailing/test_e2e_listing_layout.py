"""A wide listing in Chromium: a manager's mailings in Russian (eight columns) keep
whole action buttons, whole words and addresses, a title of reasonable width and every
column inside the page (static/css/admin.css)."""

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
    title: Math.round(document.querySelector("td.title").getBoundingClientRect().width),
    split: [...document.querySelectorAll("td.title a > span, td.owner")].flatMap(
        (cell) => splitWords(cell)),
})"""
# The words of a cell's text that the browser broke across lines; an address is two,
# before and after the <wbr> that follows its @ (mailing.admin_values.AddressColumn).
SPLIT_WORDS = """function splitWords(cell) {
    const texts = [...cell.childNodes].filter((n) => n.nodeType === 3);
    const found = [];
    for (const text of texts) {
        for (const match of text.data.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(text, match.index);
            range.setEnd(text, match.index + match[0].length);
            if (range.getClientRects().length > 1) found.push(match[0]);
        }
    }
    return found;
}"""

LONG_ADDRESS = "reader3cbe83fa7b274542891c4cb706e26614@mail.vestnik.example"


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
    # An address longer than its column: it may break anywhere, never spill out.
    make_mailing(make_user(email=LONG_ADDRESS), name="Long")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, manager.email)
    page.goto(live_server.url + reverse("mailing_mailing:list"))
    shoot(page, f"manager-mailings-{language}")

    page.add_script_tag(content=SPLIT_WORDS)
    found = page.evaluate(MEASURE)
    heights = {height for _, height in found["buttons"]}
    assert len(found["buttons"]) >= 4 and len(heights) == 1, found["buttons"]
    assert not found["spilled"]
    assert found["right"] <= 1280
    # The title took 305 px and each owner's address broke into three lines; then
    # Wagtail's word-break split a word of the title instead.
    assert not [word for word in found["split"] if word not in LONG_ADDRESS]
    assert found["title"] <= 260
