"""A StreamField sent without the editor's block data is a 400 that says why, never
a 500, and saves nothing (site_config/stream_input.py): a page's body, an email
layout and the layout's preview, as an editor or a mailing user posted them
before the editor's script ran."""

from html import unescape

import pytest
from wagtail.blocks.base import BlockWidget
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from mailing.models import EmailLayout
from tests.factories import make_blog_index, make_layout, make_post, make_user
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

REASON_RU = "Блоки содержимого в этой форме пришли не в формате редактора"
REASON_EN = "The content blocks in this form were not sent in the editor's format"


def malformed(block_type):
    """Each way the block data can be off: absent, a count that is no number,
    blocks counted but not sent, an order that is no number."""
    return [
        {},
        {"body-count": "many"},
        {"body-count": "2"},
        {
            "body-count": "1",
            "body-0-deleted": "",
            "body-0-type": block_type,
            "body-0-order": "first",
            "body-0-value": "",
        },
    ]


def post_data(**extra):
    return {
        "title": "Changed",
        "slug": "post-kept",
        "date": "2026-01-15",
        "author": "Someone",
        "intro": "Changed intro",
        **extra,
    }


@pytest.mark.parametrize("body", malformed("paragraph"))
def test_a_post_sent_without_its_blocks_is_refused_and_kept(body):
    post = make_post(make_blog_index(), title="Kept", slug="post-kept")
    http = signed_in(make_user("editor"))

    response = http.post(f"/admin/pages/{post.pk}/edit/", post_data(**body))

    assert response.status_code == 400
    assert REASON_RU in unescape(response.content.decode())
    post.refresh_from_db()
    assert post.title == "Kept"


def test_the_page_editor_still_saves_a_well_formed_body():
    post = make_post(make_blog_index(), title="Kept", slug="post-kept")
    http = signed_in(make_user("editor"))
    body = streamfield([("paragraph", rich_text("<p>Hello</p>"))])

    response = http.post(
        f"/admin/pages/{post.pk}/edit/",
        nested_form_data(post_data(body=body, **{"action-publish": "publish"})),
    )

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.title == "Changed"


def layout_data(**extra):
    return {"name": "Changed", "language": "ru", **extra}


@pytest.mark.parametrize("body", malformed("message_body"))
def test_a_layout_sent_without_its_blocks_is_refused_and_kept(body):
    owner = make_user()
    layout = make_layout(owner, name="Kept")
    http = signed_in(owner)

    edited = http.post(f"/admin/mailing/layouts/edit/{layout.pk}/", layout_data(**body))
    added = http.post("/admin/mailing/layouts/add/", layout_data(**body))
    previewed = http.post(
        f"/admin/mailing/layouts/preview/{layout.pk}/", layout_data(**body)
    )

    for response in (edited, added, previewed):
        assert response.status_code == 400
        assert REASON_RU in unescape(response.content.decode())
    layout.refresh_from_db()
    assert layout.name == "Kept"
    assert EmailLayout.objects.filter(owner=owner).count() == 1


def test_the_reason_is_in_the_senders_language():
    owner = make_user()
    owner.language = "en"
    owner.save()

    response = signed_in(owner).post("/admin/mailing/layouts/add/", layout_data())

    assert response.status_code == 400
    assert REASON_EN in unescape(response.content.decode())


def test_every_stream_field_reads_its_data_through_the_checked_method():
    # If Wagtail stops reading StreamField data here, the guard guards nothing.
    assert BlockWidget.value_from_datadict.refuses_malformed_input
