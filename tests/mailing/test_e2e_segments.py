"""Segments in Chromium, in Russian and in English (issue 12): the owner declares a
client field, builds a segment from conditions and sees its count change as they
change, saves it, and picks it on the mailing form, whose audience count follows.
Screenshots land in .test-artifacts/segments/ for a person to look at."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from wagtail.users.models import UserProfile

from mailing.models import ClientField, Segment
from tests.factories import make_client, make_list, make_message, make_user
from tests.mailing.test_e2e_workspace import sign_in

SCREENSHOTS = Path(settings.BASE_DIR) / ".test-artifacts" / "segments"
WORDS = {
    "ru": {
        "all": "Сейчас подходят 4 клиента",
        "vip": "Сейчас подходят 2 клиента, получить письмо могут 2.",
        "vip_kazan": "Сейчас подходит 1 клиент, получить письмо могут 1.",
        "audience": "Аудитория: 1 получатель",
        "has_tag": "Есть метка",
        "city_is": "Город —",
    },
    "en": {
        "all": "Matches 4 clients now",
        "vip": "Matches 2 clients now, 2 can receive mail.",
        "vip_kazan": "Matches 1 client now, 1 can receive mail.",
        "audience": "Audience: 1 recipient now.",
        "has_tag": "Has tag",
        "city_is": "Город is",
    },
}


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_owner_builds_a_segment_and_sees_its_count_in_chromium(
    live_server, browser, language
):
    words = WORDS[language]
    owner = make_user(email=f"owner-{language}@example.com")
    UserProfile.objects.update_or_create(
        user=owner, defaults={"preferred_language": language}
    )
    people = [
        make_client(owner, tags=["vip"], attributes={}),
        make_client(owner, tags=["vip"]),
        make_client(owner),
        make_client(owner),
    ]
    news = make_list(owner, name="Новости", clients=people)
    make_message(owner, subject="Letter")
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(30_000)  # two suite workers share the 2 cores
    sign_in(page, live_server.url, owner.email)

    page.goto(live_server.url + reverse("mailing_clientfield:add"))
    page.fill("input[name=label]", "Город")
    page.fill("input[name=key]", "city")
    shoot(page, f"field-form-{language}")
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: url.endswith(reverse("mailing_clientfield:list")))
    shoot(page, f"fields-{language}")
    assert ClientField.objects.filter(owner=owner, key="city").exists()

    page.goto(live_server.url + reverse("mailing_client:edit", args=[people[0].pk]))
    page.fill("input[name=attributes__city]", "Казань")
    page.locator("input[name=attributes__city]").scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / f"client-form-{language}.png")
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: url.endswith(reverse("mailing_client:list")))

    page.goto(live_server.url + reverse("mailing_segment:add"))
    count = page.locator("[data-testid=segment-count]")
    count.filter(has_text=words["all"]).wait_for()
    page.fill("input[name=name]", "VIP")
    page.select_option("select[name=rules-0-condition]", label=words["has_tag"])
    page.fill("input[name=rules-0-value]", "vip")
    count.filter(has_text=words["vip"]).wait_for()
    page.select_option("select[name=rules-1-condition]", label=words["city_is"])
    page.fill("input[name=rules-1-value]", "Казань")
    count.filter(has_text=words["vip_kazan"]).wait_for()
    shoot(page, f"segment-editor-{language}")
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: url.endswith(reverse("mailing_segment:list")))
    shoot(page, f"segments-{language}")
    segment = Segment.objects.get(owner=owner, name="VIP")
    assert len(segment.rules) == 2

    page.goto(live_server.url + reverse("mailing_mailing:add"))
    page.check(f"input[name=lists][value='{news.pk}']")
    page.select_option("select[name=segment]", value=str(segment.pk))
    page.locator("[data-testid=audience-count]").filter(
        has_text=words["audience"]
    ).wait_for()
    shoot(page, f"mailing-form-{language}")
    assert people[1].email not in page.content()
    page.close()
