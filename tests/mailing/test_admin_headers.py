"""Issue 16: every custom admin page shows its own title, not Wagtail's "Home".

Wagtail's WagtailAdminTemplateMixin gave these pages a lone "Home" breadcrumb, so
the slim header read "Главная" where the page's title belongs, with no way back.
Each page now ends its trail with its own title, after a way back (the mailing,
the listing, the post), and shows the title as its heading.
"""

import html
import re

import pytest
from django.urls import resolve, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from wagtail.users.models import UserProfile

from tests.factories import (
    make_blog_index,
    make_client,
    make_mailing,
    make_message,
    make_post,
    make_user,
)

pytestmark = pytest.mark.django_db

HOME_WORDS = {"Home", "Главная"}


def visible_text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def header(content: str) -> dict:
    """The parts of a page's header a person reads."""
    heading = re.search(r'<h2[^>]*id="header-title"[^>]*>(.*?)</h2>', content, re.S)
    screen_reader = re.search(r'<h1 class="w-sr-only">(.*?)</h1>', content, re.S)
    crumbs = re.search(r"<div data-w-breadcrumbs.*?</nav>", content, re.S)
    return {
        "heading": visible_text(heading.group(1)) if heading else "",
        "title": visible_text(screen_reader.group(1)) if screen_reader else "",
        "crumbs": crumbs.group(0) if crumbs else "",
    }


@pytest.fixture
def world():
    owner = make_user(email="owner@example.com")
    manager = make_user("manager", email="manager@example.com")
    editor = make_user("editor", email="editor@example.com")
    client = make_client(owner)
    message = make_message(owner, subject="Autumn news")
    mailing = make_mailing(
        owner, name="Autumn letter", message=message, clients=[client]
    )
    post = make_post(make_blog_index(), title="A post to send")
    return {
        "owner": owner,
        "manager": manager,
        "editor": editor,
        "mailing": mailing,
        "message": message,
        "post": post,
    }


def pages(world):
    """(who, url, title msgid, the link back, its label) for each custom page."""
    mailing, message, post = world["mailing"], world["message"], world["post"]
    to_mailing = reverse("mailing_mailing:inspect", args=[mailing.pk])
    to_users = reverse("mailing_users:index")
    return [
        ("owner", reverse("mailing_mailing:report", args=[mailing.pk]), "Report",
         to_mailing, "Autumn letter"),
        ("owner", reverse("mailing_mailing:preview", args=[mailing.pk]), "Preview",
         to_mailing, "Autumn letter"),
        ("owner", reverse("mailing_mailing:send_test", args=[mailing.pk]),
         "Send a test to me", to_mailing, "Autumn letter"),
        ("owner", reverse("mailing_mailing:send_now", args=[mailing.pk]), "Send now",
         to_mailing, "Autumn letter"),
        ("owner", reverse("mailing_mailing:send_unknown", args=[mailing.pk]),
         "Resend the unknown", to_mailing, "Autumn letter"),
        ("owner", reverse("mailing_mailing:pause", args=[mailing.pk]),
         "Pause the mailing", to_mailing, "Autumn letter"),
        ("owner", reverse("mailing_mailing:cancel", args=[mailing.pk]),
         "Cancel sending", to_mailing, "Autumn letter"),
        ("owner", reverse("mailing_message:send_test", args=[message.pk]),
         "Send a test to me", reverse("mailing_message:edit", args=[message.pk]),
         "Autumn news"),
        ("owner", reverse("mailing_client:import"), "Import clients",
         reverse("mailing_client:list"), None),
        ("owner", reverse("mailing_reports:index"), "Reports", None, None),
        ("manager", reverse("mailing_reports:index"), "Reports", None, None),
        ("manager", reverse("mailing_mailing:disable", args=[mailing.pk]),
         "Disable the mailing", to_mailing, "Autumn letter"),
        ("manager", to_users, "Users", None, None),
        ("manager", reverse("mailing_users:block", args=[world["owner"].pk]),
         "Block the user", to_users, None),
        ("editor", reverse("mailing_send_newsletter", args=[post.pk]),
         "Send as newsletter", reverse("wagtailadmin_pages:edit", args=[post.pk]),
         "A post to send"),
    ]  # fmt: skip


@pytest.mark.parametrize("language", ["ru", "en"])
def test_each_custom_admin_page_shows_its_own_title_and_a_way_back(
    client, world, language
):
    for role in ("owner", "manager", "editor"):
        UserProfile.objects.update_or_create(
            user=world[role], defaults={"preferred_language": language}
        )
    for role, url, msgid, back_url, back_label in pages(world):
        client.force_login(world[role])
        response = client.get(url)
        assert response.status_code == 200, url
        with translation.override(language):
            title = _(msgid)
        shown = header(response.content.decode())

        assert shown["heading"].startswith(title), (url, shown["heading"])
        assert shown["title"].startswith(title), (url, shown["title"])
        assert shown["heading"] not in HOME_WORDS and shown["title"] not in HOME_WORDS
        if language == "ru":
            assert re.search("[а-яё]", title, re.I), f"untranslated: {msgid}"
        if back_url:
            assert f'href="{back_url}"' in shown["crumbs"], (url, back_url)
        if back_label:
            assert back_label in visible_text(shown["crumbs"]), (url, back_label)
        # The trail ends with the page's own title.
        assert visible_text(shown["crumbs"]).endswith(title), url


def test_a_foreign_user_still_gets_no_page(client, world):
    stranger = make_user(email="stranger@example.com")
    client.force_login(stranger)
    mailing = world["mailing"]
    for name in ("report", "preview", "send_test"):
        response = client.get(reverse(f"mailing_mailing:{name}", args=[mailing.pk]))
        assert response.status_code in (302, 403, 404), name
        assert b"Autumn letter" not in response.content


@pytest.mark.parametrize("language", ["ru", "en"])
def test_mailing_listings_and_objects_start_their_trail_in_the_users_language(
    client, world, language
):
    """Wagtail's snippet views put a "Home" fixed in LANGUAGE_CODE at the head of
    the trail; English users read "Главная" on every mailing listing."""
    owner, mailing = world["owner"], world["mailing"]
    UserProfile.objects.update_or_create(
        user=owner, defaults={"preferred_language": language}
    )
    client.force_login(owner)
    with translation.override(language):
        home = _("Home")
    for url in (
        reverse("mailing_client:list"),
        reverse("mailing_mailing:list"),
        reverse("mailing_attempt:list"),
        reverse("mailing_mailing:edit", args=[mailing.pk]),
        reverse("mailing_mailing:inspect", args=[mailing.pk]),
    ):
        crumbs = header(client.get(url).content.decode())["crumbs"]
        first = re.search(r"<li.*?</li>", crumbs, re.S)
        assert first and visible_text(first.group(0)) == home, (url, crumbs[-300:])


def test_the_home_crumb_is_translated_when_shown_not_when_the_urls_load():
    from mailing.wagtail_hooks import MailingViewSet

    with translation.override("ru"):
        items = MailingViewSet().breadcrumbs_items  # as when the admin URLs load
    with translation.override("en"):
        assert str(items[0]["label"]) == "Home"


def test_a_mailings_buttons_keep_one_order_in_every_language(client, world):
    """Wagtail sorts header buttons by label where their priorities are equal:
    Russian and English showed "Send now", "Preview", "Report" in other orders."""
    owner, mailing = world["owner"], world["mailing"]
    client.force_login(owner)
    orders = {}
    for language in ("ru", "en"):
        UserProfile.objects.update_or_create(
            user=owner, defaults={"preferred_language": language}
        )
        response = client.get(reverse("mailing_mailing:inspect", args=[mailing.pk]))
        names = [
            resolve(button.url).url_name
            for button in (
                *response.context["view"].get_header_buttons(),
                *response.context["view"].get_header_more_buttons(),
            )
            if getattr(button, "url", None)
            and button.url.startswith("/admin/mailing/mailings/")
        ]
        orders[language] = names
    assert orders["ru"] == orders["en"]
    assert orders["en"].index("send_now") < orders["en"].index("preview")
    assert orders["en"].index("preview") < orders["en"].index("report")
