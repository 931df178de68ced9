"""Issue 16 in Chromium: a custom admin page shows its own title and a way back.

Screenshots land in .test-artifacts/admin-headers/ (git-ignored) for a person to
look at: the mailing report, the preview and the managers' users page, in Russian
and in English.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from wagtail.users.models import UserProfile

from tests.factories import make_client, make_mailing, make_message, make_user
from tests.mailing.test_e2e_workspace import sign_in

SCREENSHOTS = Path(settings.BASE_DIR) / ".test-artifacts" / "admin-headers"
TITLES = {
    "ru": {"report": "Отчёт", "preview": "Предпросмотр", "users": "Пользователи"},
    "en": {"report": "Report", "preview": "Preview", "users": "Users"},
}


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_custom_admin_pages_show_their_title_in_chromium(
    live_server, browser, language
):
    owner = make_user(email=f"owner-{language}@example.com")
    manager = make_user("manager", email=f"manager-{language}@example.com")
    for user in (owner, manager):
        UserProfile.objects.update_or_create(
            user=user, defaults={"preferred_language": language}
        )
    message = make_message(owner, subject="Autumn news")
    mailing = make_mailing(
        owner, name="Autumn letter", message=message, clients=[make_client(owner)]
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    views = [
        (owner, "report", reverse("mailing_mailing:report", args=[mailing.pk])),
        (owner, "preview", reverse("mailing_mailing:preview", args=[mailing.pk])),
        (manager, "users", reverse("mailing_users:index")),
    ]
    for user, name, url in views:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        sign_in(page, base, user.email)
        page.goto(base + url)
        heading = page.locator("#header-title").inner_text()
        page.screenshot(path=SCREENSHOTS / f"{language}-{name}.png", full_page=True)

        assert heading.startswith(TITLES[language][name]), heading
        if name != "users":
            back = page.locator(
                f"[data-w-breadcrumbs] a[href$='/mailings/inspect/{mailing.pk}/']"
            )
            assert back.count() == 1
        page.close()


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_admin_home_shows_each_roles_panels_in_chromium(live_server, browser, language):
    from datetime import timedelta

    from django.utils import timezone

    owner = make_user(email=f"home-owner-{language}@example.com")
    manager = make_user("manager", email=f"home-manager-{language}@example.com")
    for user in (owner, manager):
        UserProfile.objects.update_or_create(
            user=user, defaults={"preferred_language": language}
        )
    make_mailing(
        owner, name="Autumn letter", next_send_at=timezone.now() + timedelta(hours=3)
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    expected = {
        owner: ("mailing_next_sends", "mailing_running_runs", "mailing_last_days"),
        manager: ("mailing_last_days", "mailing_blocked_users", "mailing_disabled"),
    }
    for user, panels in expected.items():
        role = "manager" if user == manager else "owner"
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, live_server.url, user.email)
        page.screenshot(
            path=SCREENSHOTS / f"{language}-home-{role}.png", full_page=True
        )
        for name in panels:
            assert page.locator(f"[data-testid={name}]").is_visible(), (role, name)
        page.close()


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_mailings_page_keeps_its_title_beside_its_actions_in_chromium(
    live_server, browser
):
    """All eight actions in the header left its title no room at 1280 pixels in
    Russian: "Просмотр: ..." was scrolled out of a 36-pixel strip."""
    owner = make_user(email="inspect-ru@example.com", language="ru")
    mailing = make_mailing(owner, name="Еженедельный дайджест")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, live_server.url, owner.email)
    page.goto(live_server.url + reverse("mailing_mailing:inspect", args=[mailing.pk]))
    page.screenshot(path=SCREENSHOTS / "ru-mailing-inspect.png")
    crumbs = page.locator("[data-w-breadcrumbs]").evaluate(
        "c => [c.scrollWidth, c.clientWidth]"
    )
    header = page.locator("header.w-slim-header")

    assert crumbs[0] <= crumbs[1], crumbs
    assert header.locator(".w-breadcrumbs__sublabel").is_visible()
    copy = page.locator(f"a[href$='/mailings/copy/{mailing.pk}/']")
    assert not copy.is_visible()
    header.locator("button.w-dropdown__toggle").last.click()
    assert copy.is_visible()
    page.close()
