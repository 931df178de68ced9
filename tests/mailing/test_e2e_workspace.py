"""A user builds a mailing in the admin; a manager sees it and cannot edit it."""

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from mailing.models import Mailing
from tests.factories import PASSWORD, make_user
from tests.pickers import close_date_pickers


def sign_in(page, base, email):
    page.goto(base + reverse("wagtailadmin_login"))
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    # /admin/login/ leads to the accounts login; its form is the one in <main>
    # (the navbar's language switcher is a form too).
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: urlsplit(url).path == "/admin/")


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_user_builds_mailing_manager_sees_but_cannot_edit(live_server, browser):
    make_user("mailing_user", email="writer@example.com")
    make_user("manager", email="boss@example.com")
    base = live_server.url

    page = browser.new_page()
    sign_in(page, base, "writer@example.com")
    page.goto(base + reverse("mailing_client:add"))
    page.fill("input[name=email]", "reader@example.org")
    page.fill("input[name=full_name]", "Reader <b>One</b>")
    page.click("button.action-save")
    page.wait_for_url(re.compile(r".*/mailing/clients/$"))

    page.goto(base + reverse("mailing_message:add"))
    page.fill("input[name=subject]", "Hello {{ full_name }}")
    page.fill("textarea[name=body]", "Dear {{ full_name }}")
    page.click("button.action-save")
    page.wait_for_url(re.compile(r".*/mailing/messages/$"))

    page.goto(base + reverse("mailing_mailing:add"))
    page.fill("input[name=name]", "Browser mailing")
    page.select_option("select[name=message]", label="Hello {{ full_name }}")
    page.check("input[name=all_clients]")
    page.fill("input[name=first_send_at]", "2031-01-01 10:00")
    close_date_pickers(page)  # an open picker covers Save
    page.click("button.action-save")
    page.wait_for_url(re.compile(r".*/mailing/mailings/$"))
    mailing = Mailing.objects.get(name="Browser mailing")
    assert mailing.owner.email == "writer@example.com"
    page.close()

    page = browser.new_page()
    sign_in(page, base, "boss@example.com")
    page.goto(base + reverse("mailing_mailing:list"))
    assert page.get_by_text("Browser mailing").count() >= 1
    assert page.locator(f"a[href$='/mailing/mailings/edit/{mailing.pk}/']").count() == 0
    page.goto(base + reverse("mailing_mailing:inspect", args=[mailing.pk]))
    assert "Browser mailing" in page.content()
    page.goto(base + reverse("mailing_mailing:edit", args=[mailing.pk]))
    assert page.url.rstrip("/").endswith("/admin")
    page.goto(base + reverse("mailing_client:list"))
    # The name is shown as text, never as markup.
    assert page.get_by_text("Reader <b>One</b>").count() == 1
    page.close()
