"""A 404 inside the admin is Wagtail's admin 404 page (with its way back to the
admin), for the views scoped in place of Wagtail's (mailing.admin_scoping) as for
Wagtail's own: ours showed the public site's 404 page."""

import pytest
from django.test import Client as HttpClient

from tests.factories import home_page, make_user

pytestmark = pytest.mark.django_db

ADMIN_404 = "wagtailadmin/404.html"


def templates(response) -> set[str]:
    return {template.name for template in response.templates}


@pytest.fixture
def admin():
    http = HttpClient()
    http.force_login(make_user("superuser"))
    return http


def test_wagtails_own_admin_404_is_its_admin_page(admin):
    """What ours follow: Wagtail's own view of a page that does not exist."""
    response = admin.get("/admin/pages/987654321/edit/")
    assert response.status_code == 404
    assert ADMIN_404 in templates(response)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/choose-page/987654321/",
        "/admin/images/chooser/chosen/987654321/",
        "/admin/documents/chooser/chosen/abc/",
    ],
)
def test_a_replaced_admin_views_404_is_the_admin_page(admin, path):
    response = admin.get(path)
    assert response.status_code == 404
    assert ADMIN_404 in templates(response)
    assert "404.html" not in templates(response)  # the public site's page


def test_an_editing_session_ping_for_nothing_is_the_admin_404(admin):
    response = admin.post("/admin/editing-sessions/ping/mailing/client/abc/1/")
    assert response.status_code == 404
    assert ADMIN_404 in templates(response)


def test_a_page_the_user_may_not_see_is_the_admin_404():
    http = HttpClient()
    http.force_login(make_user("mailing_user"))
    response = http.get(f"/admin/choose-page/{home_page().pk}/")
    assert response.status_code == 404
    assert ADMIN_404 in templates(response)
