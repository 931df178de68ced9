"""A mailing's page names the mailing where a person looks first: its header shows
the mailing's actions, and the header's title is for screen readers only."""

import pytest
from django.urls import reverse

from tests.factories import make_mailing, make_user
from tests.mailing.test_e2e_schedule import shoot
from tests.mailing.test_e2e_workspace import sign_in


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_mailing_page_shows_its_name_at_the_top(live_server, browser, language):
    owner = make_user(email="owner@vestnik.example", language=language)
    mailing = make_mailing(owner, name="Еженедельный дайджест")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, owner.email)
    page.goto(live_server.url + reverse("mailing_mailing:inspect", args=[mailing.pk]))
    shoot(page, f"mailing-inspect-{language}")

    name = page.get_by_test_id("mailing-name")
    assert name.is_visible() and name.inner_text() == "Еженедельный дайджест"
    assert name.bounding_box()["y"] < 200
