"""The admin dashboard offers "Search all pages" only to those who may explore pages."""

from pathlib import Path

import pytest
import wagtail
from django.conf import settings
from django.urls import reverse

from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "shown"),
    [("editor", True), ("mailing_user", False), ("manager", False)],
)
def test_page_search_box_only_for_page_explorers(client, role, shown):
    client.force_login(make_user(role))
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    html = response.content.decode()
    explore_root = reverse("wagtailadmin_explore_root")
    assert (f'action="{explore_root}' in html or 'role="search"' in html) is shown


def content_block(source: str) -> str:
    start = source.index("{% block content %}")
    return source[start : source.index("\n{% endblock %}", start)]


def test_our_dashboard_block_is_upstreams_apart_from_the_gate():
    upstream = Path(wagtail.__file__).parent / "admin/templates/wagtailadmin/home.html"
    ours = Path(settings.BASE_DIR) / "templates/wagtailadmin/home.html"
    ungated = (
        ours.read_text()
        .replace("                {% if root_page %}\n", "", 1)
        .replace("</form>\n                {% endif %}", "</form>", 1)
    )
    assert content_block(ungated) == content_block(upstream.read_text())


def test_admin_pages_carry_the_products_mark_and_title(client):
    client.force_login(make_user("mailing_user"))
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "- Vestnik</title>" in html
    assert 'aria-label="Vestnik"' in html


@pytest.mark.parametrize(
    ("role", "shown"),
    [("editor", True), ("mailing_user", False), ("manager", False)],
)
def test_wagtails_own_guides_only_in_page_editors_help_menu(client, role, shown):
    client.force_login(make_user(role))
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert ("editor-guide" in html) is shown
    assert ("whats-new-in-wagtail" in html) is shown
    assert "keyboard-shortcuts-trigger" in html


@pytest.mark.parametrize(
    ("role", "shown"),
    [("editor", True), ("mailing_user", False), ("manager", False)],
)
def test_account_summary_links_the_editor_guide_only_for_page_editors(
    client, role, shown
):
    client.force_login(make_user(role))
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("wagtailadmin_account") in html
    assert ("guide.wagtail.org" in html) is shown


def test_our_account_summary_is_upstreams_apart_from_the_gate():
    name = "admin/templates/wagtailadmin/home/account_summary.html"
    upstream = (Path(wagtail.__file__).parent / name).read_text()
    ours = (
        Path(settings.BASE_DIR)
        / "mailing/templates/wagtailadmin/home/account_summary.html"
    ).read_text()
    comment = ours[ours.index("{% comment %}") : ours.index("{% endcomment %}\n") + 17]
    gate = "            {% if not user|works_only_with_mailings %}\n"
    end = "            {% endif %}\n"
    ungated = (
        ours.replace(" admin_roles %}", " %}", 1)
        .replace(comment, "", 1)
        .replace(gate, "", 1)
        .replace("            </li>\n" + end, "            </li>\n", 1)
    )
    assert ungated == upstream
