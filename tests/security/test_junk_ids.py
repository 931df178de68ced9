"""Ids that are no number ("abc", "1e5", "1.0") in the admin's choosers and bulk
actions: an id of nothing (a 404, or an empty choice), never a 500.

The outside run found each of them a 500 (ValueError from the primary key's
lookup): Wagtail's bulk-action dispatcher for every model we scope (snippets,
pages, images, documents), our choosers' chosen and chosen-multiple views, then
Wagtail's own image and document choosers (chosen and chosen-multiple, in the
viewsets' namespaced includes) and its editing-session ping.
Good ids beside a junk one still count."""

import pytest
from django.test import Client as HttpClient

from tests.factories import make_client, make_image, make_user

pytestmark = pytest.mark.django_db

JUNK = ["abc", "1e5", "1.0", "-"]


@pytest.fixture
def owner():
    return make_user("mailing_user", email="owner@example.com")


@pytest.fixture
def http(owner):
    http = HttpClient()
    http.force_login(owner)
    return http


@pytest.mark.parametrize("junk", JUNK)
@pytest.mark.parametrize(
    "path",
    [
        "/admin/bulk/mailing/client/delete/?id={}",
        "/admin/bulk/mailing/mailing/delete/?id={}",
        "/admin/bulk/wagtailcore/page/delete/?id={}",
        "/admin/bulk/wagtailimages/image/delete/?id={}",
        "/admin/bulk/wagtaildocs/document/delete/?id={}",
        "/admin/snippets/choose/mailing/client/chosen/{}/",
        "/admin/snippets/choose/mailing/client/chosen-multiple/?id={}",
        "/admin/choose-page/chosen-multiple/?id={}",
        "/admin/images/chooser/chosen/{}/",
        "/admin/images/chooser/chosen-multiple/?id={}",
        "/admin/documents/chooser/chosen/{}/",
        "/admin/documents/chooser/chosen-multiple/?id={}",
        "/admin/bulk/wagtailimages/image/add_tags/?id={}",
        "/admin/bulk/wagtailimages/image/add_to_collection/?id={}",
        "/admin/bulk/wagtaildocs/document/add_tags/?id={}",
        "/admin/bulk/wagtaildocs/document/add_to_collection/?id={}",
        "/admin/bulk/wagtailcore/page/move/?id={}",
        "/admin/bulk/wagtailcore/page/publish/?id={}",
        "/admin/bulk/wagtailcore/page/unpublish/?id={}",
    ],
)
def test_a_junk_id_is_an_id_of_nothing(http, path, junk):
    nothing = http.get(path.format("987654321")).status_code
    assert nothing in (200, 404)  # chosen-multiple: an empty choice
    assert http.get(path.format(junk)).status_code == nothing


def test_good_ids_beside_a_junk_one_still_count(http, owner):
    mine = make_client(owner, email="mine@example.org")
    confirm = http.get(f"/admin/bulk/mailing/client/delete/?id=abc&id={mine.pk}")
    assert confirm.status_code == 200
    assert "mine@example.org" in confirm.content.decode()
    chosen = http.get(
        f"/admin/snippets/choose/mailing/client/chosen-multiple/?id=x&id={mine.pk}"
    )
    assert chosen.status_code == 200
    assert "mine@example.org" in chosen.content.decode()


@pytest.mark.parametrize("junk", JUNK)
def test_an_editing_session_ping_for_a_junk_id_is_a_404(http, owner, junk):
    ping = "/admin/editing-sessions/ping/mailing/client/{}/1/"
    assert http.post(ping.format("987654321")).status_code == 404
    assert http.post(ping.format(junk)).status_code == 404
    mine = make_client(owner)
    assert http.post(ping.format(mine.pk)).status_code == 200


def test_a_good_image_id_beside_a_junk_one_still_counts():
    http = HttpClient()
    http.force_login(make_user("editor"))
    image = make_image(title="Sunrise over the bay")
    chosen = http.get(f"/admin/images/chooser/chosen-multiple/?id=x&id={image.pk}")
    assert chosen.status_code == 200
    assert "Sunrise over the bay" in chosen.content.decode()
    one = http.get(f"/admin/images/chooser/chosen/{image.pk}/")
    assert one.status_code == 200
    assert "Sunrise over the bay" in one.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/choose-page/",
        "/admin/choose-page/chosen-multiple/?id=1",
        "/admin/images/chooser/chosen-multiple/?id=1",
        "/admin/documents/chooser/chosen-multiple/?id=1",
    ],
)
def test_the_replaced_admin_views_stay_uncached_as_wagtails_own(http, path):
    """Wagtail marks every admin view never_cache; the views scoped in their
    place (mailing.admin_scoping.admin_urlpatterns) are no exception."""
    answer = http.get(path)
    assert answer.status_code == 200
    assert "no-store" in answer.headers["Cache-Control"]
