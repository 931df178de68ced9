"""An editor sends a blog post as a newsletter from its action menu, in Russian and
English admin. Screenshots in .test-artifacts/newsletter-screenshots/."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import connections
from wagtail.users.models import UserProfile

from tests.factories import (
    make_blog_index,
    make_client,
    make_list,
    make_post,
    make_user,
)

from .test_e2e_workspace import sign_in

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SCREENSHOTS = Path(settings.BASE_DIR) / ".test-artifacts" / "newsletter-screenshots"
WORDS = {
    "ru": ("Отправить как рассылку", "Отправить"),
    "en": ("Send as newsletter", "Send"),
}


@pytest.fixture
def close_connections():
    yield
    connections.close_all()


def test_an_editor_sends_a_post_from_its_action_menu(
    live_server, page, close_connections
):
    post = make_post(make_blog_index(), title="Harbour news", intro="Boats are back")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for language in ("ru", "en"):
        editor = make_user("editor", email=f"editor-{language}@example.com")
        profile = UserProfile.get_for_user(editor)
        profile.preferred_language = language
        profile.save()
        reader = make_client(editor, email=f"reader-{language}@example.org")
        make_list(editor, clients=[reader], name=f"Readers {language}")
        label, button = WORDS[language]
        page.context.clear_cookies()
        sign_in(page, live_server.url, editor.email)

        page.goto(f"{live_server.url}/admin/pages/{post.pk}/edit/")
        page.locator("[data-w-dropdown-target='toggle']").last.click()
        page.get_by_role("link", name=label).click()
        page.wait_for_url(f"**/mailing/newsletter/{post.pk}/")
        header = page.locator("header [data-w-breadcrumbs-target], header").first
        assert header.inner_text().strip().endswith(label), header.inner_text()
        page.check(f"text=Readers {language}")
        page.screenshot(path=SCREENSHOTS / f"{language}-form.png", full_page=True)
        page.get_by_role("button", name=button, exact=True).click()
        page.wait_for_url(f"**/admin/pages/{post.pk}/edit/")
        page.screenshot(path=SCREENSHOTS / f"{language}-sent.png", full_page=True)

        assert mail.outbox[-1].to[0].endswith(f"reader-{language}@example.org>")
        assert "Harbour news" in mail.outbox[-1].subject
