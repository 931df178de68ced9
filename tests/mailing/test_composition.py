"""Layouts around the message, the footer nobody can remove, absolute URLs in mail."""

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.documents import get_document_model

from accounts.models import MAILING_USERS_GROUP, MANAGERS_GROUP
from mailing import services
from mailing.email_text import html_to_text
from mailing.models import EmailLayout
from mailing.rendering import prepare_message
from mailing.sending import pipeline
from tests.factories import (
    make_blog_index,
    make_client,
    make_image,
    make_layout,
    make_letter,
    make_mailing,
    make_message,
    make_post,
    make_sender,
    make_user,
)

from .email_parts import html_part, links

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    """Wagtail caches renditions by image id, and ids restart with each test
    database while Redis keeps the cache: a stale entry would show another image."""
    cache.clear()
    yield
    cache.clear()


UNSUBSCRIBE = "https://vestnik.example/unsubscribe/tok/"


def make_document(title="Guide"):
    from django.core.files.base import ContentFile

    document = get_document_model()(title=title)
    document.file.save("guide.txt", ContentFile(b"A guide to our service.\n"))
    return document


def everything(owner):
    """A message and layout using every kind of link and image mail can carry."""
    image, logo = make_image("Photo"), make_image("Logo", size=(300, 120))
    post = make_post(make_blog_index(), title="Our news")
    document = make_document()
    layout = make_layout(
        owner,
        blocks=[
            {"type": "header", "value": {"logo": logo.pk, "title": "", "tagline": "T"}},
            {"type": "message_body", "value": None},
            {
                "type": "text",
                "value": f'<p>See the <a linktype="document" id="{document.pk}">'
                f'guide</a> and <a linktype="page" id="{post.pk}">post</a>.</p>',
            },
            {
                "type": "image",
                "value": {"image": image.pk, "alt": "A photo", "link": ""},
            },
            {"type": "button", "value": {"label": "Read", "page": post.pk, "url": ""}},
            {"type": "divider", "value": None},
            {"type": "footer", "value": {"text": "Our own words"}},
        ],
    )
    body = (
        f'<p>Read <a linktype="page" id="{post.pk}">the post</a>, the '
        f'<a linktype="document" id="{document.pk}">guide</a>, '
        '<a href="/blog/">the blog</a> or <a href="https://example.org/x">elsewhere</a>.'
        f'</p><embed embedtype="image" id="{image.pk}" format="fullwidth" '
        'alt="Inline"/>'
    )
    message = make_message(owner, html_body=body, body="", layout=layout)
    return message, {"image": image, "logo": logo, "post": post, "document": document}


# --- Layouts and the footer -------------------------------------------------------


def test_the_shared_layouts_ship_in_russian_and_english():
    """What the data migration made: the two layouts and the roles' permissions."""
    shared = EmailLayout.objects.shared()
    users = Group.objects.get(name=MAILING_USERS_GROUP)
    managers = Group.objects.get(name=MANAGERS_GROUP)

    assert sorted(shared.values_list("language", flat=True)) == ["en", "ru"]
    assert EmailLayout.objects.default_for("en").language == "en"
    for layout in shared:
        assert [block.block_type for block in layout.body] == [
            "header",
            "message_body",
            "divider",
        ]
    granted = set(users.permissions.values_list("codename", flat=True))
    assert {"add_emaillayout", "change_senderidentity", "view_emaillayout"} <= granted
    assert {"view_emaillayout", "view_senderidentity"} <= set(
        managers.permissions.values_list("codename", flat=True)
    )
    assert "change_emaillayout" not in set(
        managers.permissions.values_list("codename", flat=True)
    )


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_message_without_layout_gets_the_shared_one_in_its_owners_language(
    language,
):
    owner = make_user(language=language)
    rendered = prepare_message(make_letter(owner, language)).render(
        "Anna", "anna@example.org", UNSUBSCRIBE
    )

    unsubscribe_word = {"ru": "Отписаться", "en": "Unsubscribe"}[language]
    assert f'<html lang="{language}">' in rendered.html
    assert f'href="{UNSUBSCRIBE}"' in rendered.html
    assert unsubscribe_word in rendered.html
    assert f"{unsubscribe_word} [" in rendered.text


def test_the_footer_survives_a_layout_without_blocks_and_a_hiding_body():
    owner = make_user()
    sender = make_sender(owner, postal_address="12 Tverskaya St, Moscow")
    empty = make_layout(owner, blocks=[])
    message = make_message(
        owner,
        layout=empty,
        sender=sender,
        body="",
        html_body='<div style="display:none"><p hidden>Hi</p></div><style>.footer'
        "{display:none}</style>",
    )

    rendered = prepare_message(message).render("A", "a@example.org", UNSUBSCRIBE)

    footer = rendered.html[rendered.html.index('class="footer"') :]
    assert f'href="{UNSUBSCRIBE}"' in footer
    assert "12 Tverskaya St, Moscow" in footer
    assert "display:none" not in rendered.html.replace(" ", "")
    assert "{display" not in rendered.html  # the user's <style> is gone
    assert "12 Tverskaya St, Moscow" in rendered.text
    assert UNSUBSCRIBE in rendered.text


def test_a_crafted_layout_post_cannot_remove_the_footer(client):
    owner = make_user()
    layout = make_layout(owner, blocks=[{"type": "footer", "value": {"text": "x"}}])
    client.force_login(owner)

    response = client.post(
        reverse("mailing_emaillayout:edit", args=[layout.pk]),
        {
            "name": "No footer",
            "language": "en",
            "body-count": "1",
            "body-0-type": "mandatory_footer",
            "body-0-deleted": "",
            "body-0-order": "0",
            "body-0-value": "",
            "body-0-id": "abc",
        },
    )
    layout.refresh_from_db()
    message = make_message(owner, layout=layout)
    rendered = prepare_message(message).render("A", "a@example.org", UNSUBSCRIBE)

    assert response.status_code in (200, 302)
    assert f'href="{UNSUBSCRIBE}"' in rendered.html
    assert "Unsubscribe" in rendered.html or "Отписаться" in rendered.html


def test_the_web_version_slot_is_empty_until_a_url_is_given():
    owner = make_user(language="en")
    prepared = prepare_message(make_letter(owner, "en"))

    without = prepared.render("A", "a@example.org", UNSUBSCRIBE)
    with_url = prepared.render(
        "A", "a@example.org", UNSUBSCRIBE, "https://v.example/w/1"
    )

    assert "View in browser" not in without.html + without.text
    assert "\ue000" not in without.html + without.text
    assert 'href="https://v.example/w/1"' in with_url.html
    assert "View in browser: https://v.example/w/1" in with_url.text


def test_another_owners_layout_is_refused_and_never_used():
    owner, other = make_user(), make_user()
    foreign = make_layout(other, blocks=[{"type": "footer", "value": {"text": "B!"}}])
    message = make_message(owner, layout=foreign)

    with pytest.raises(Exception) as refused:
        message.full_clean()
    rendered = prepare_message(message).render("A", "a@example.org", UNSUBSCRIBE)

    assert "layout" in str(refused.value)
    assert "B!" not in rendered.html


# --- Email-safe HTML and the text part ---------------------------------------------


def test_css_is_inlined_images_are_limited_and_described():
    owner = make_user()
    message, _objects = everything(owner)

    rendered = prepare_message(message).render("A", "a@example.org", UNSUBSCRIBE)
    images = [(t, v) for t, a, v in links(rendered.html) if a == "src"]

    assert 'style="' in rendered.html and "max-width: 600px" in rendered.html
    assert 'role="presentation"' in rendered.html
    assert len(images) == 3
    for fragment in rendered.html.split("<img")[1:]:
        tag = fragment.split(">", 1)[0]
        assert 'alt="' in tag and 'alt=""' not in tag
        assert "max-width: 100%" in tag or "max-width: 560px" in tag
        width = int(tag.split('width="', 1)[1].split('"', 1)[0])
        assert width <= 560
    assert "prefers-color-scheme: dark" in rendered.html


def test_the_text_part_is_made_from_the_html_with_links_listed():
    text = html_to_text(
        '<h2>News</h2><p>Read <a href="https://x.org/a">the post</a>.<br>Bye</p>'
        '<ul><li>one</li><li>two</li></ul><img src="https://x.org/i.png" alt="Cat">'
        '<p><a href="https://x.org/a">again</a></p>'
        '<p><a href="https://x.org/b"><img src="https://x.org/d.png" alt="Dog"></a></p>'
    )

    # A linked picture keeps its link: the text part of a received email with an
    # image block linked to the blog had the [alt] only.
    assert text == (
        "News\n\nRead the post [1].\nBye\n\n- one\n- two\n\n[Cat]\n\nagain [1]"
        "\n\n[Dog] [2]\n\n[1] https://x.org/a\n[2] https://x.org/b"
    )


def test_an_authors_own_text_part_is_kept_and_gets_the_footer():
    owner = make_user(language="en")
    message = make_message(owner, body="My own words.", html_body="<p>HTML</p>")

    rendered = prepare_message(message).render("A", "a@example.org", UNSUBSCRIBE)

    assert rendered.text.startswith("My own words.\n\n-- \n")
    assert f"Unsubscribe: {UNSUBSCRIBE}" in rendered.text


def test_media_embeds_are_not_stored_in_a_message():
    owner = make_user()
    message = make_message(
        owner,
        html_body='<embed embedtype="media" url="https://evil.example/x"/><p>Hi</p>',
    )

    message.refresh_from_db()

    assert "evil.example" not in message.html_body


# --- Absolute URLs ------------------------------------------------------------------


@override_settings(BASE_URL="https://mail.vestnik.example")
def test_every_link_and_image_of_a_sent_email_is_absolute():
    owner = make_user()
    message, objects = everything(owner)
    # The links as written: with tracking they are click redirects (test_tracking).
    mailing = make_mailing(
        owner, message=message, clients=[make_client(owner)], track_engagement=False
    )

    run = services.open_run(mailing, "manual", timezone.now())
    pipeline.send_run(run.pk)
    sent = mail.outbox[-1]
    found = links(html_part(sent))

    assert found, "the email has links"
    for tag, attribute, value in found:
        assert value.startswith(
            ("https://mail.vestnik.example/", "https://example.org/")
        ), (
            tag,
            attribute,
            value,
        )
    values = [value for _, _, value in found]
    assert any("/media/images/" in v for v in values)  # renditions
    assert any(objects["post"].url in v for v in values)  # page links
    assert any("/documents/" in v for v in values)  # document links
    assert any("/unsubscribe/" in v for v in values)
    for line in sent.body.splitlines():
        if line.startswith("[") and "] " in line:
            assert line.split("] ", 1)[1].startswith("https://")


def test_a_new_layout_starts_with_header_body_and_divider():
    layout = EmailLayout(owner=make_user(), name="Mine")

    assert [block.block_type for block in layout.body] == [
        "header",
        "message_body",
        "divider",
    ]


def test_the_layout_editor_previews_unsaved_blocks_around_the_sample_letter(client):
    owner = make_user(language="en")
    layout = make_layout(owner, language="en")
    client.force_login(owner)
    url = reverse("mailing_emaillayout:preview_on_edit", args=[layout.pk])
    form = {
        "name": "Mine",
        "language": "en",
        "body-count": "1",
        "body-0-type": "footer",
        "body-0-deleted": "",
        "body-0-order": "0",
        "body-0-value-text": "Unsaved footer words",
        "body-0-id": "f1",
    }

    stored = client.post(url, form).json()
    shown = client.get(url).content.decode()
    layout.refresh_from_db()

    assert stored["is_valid"] is True
    assert "Unsaved footer words" in shown
    assert "What is new this week" in shown  # the sample letter
    assert "Unsaved footer words" not in str(layout.body.raw_data)


def test_shared_layouts_are_seen_by_every_owner_and_changed_by_none(client):
    owner = make_user()
    shared = EmailLayout.objects.default_for("ru")
    client.force_login(owner)

    listing = client.get(reverse("mailing_emaillayout:list")).content.decode()
    edit = client.post(
        reverse("mailing_emaillayout:edit", args=[shared.pk]), {"name": "Mine now"}
    )
    shared.refresh_from_db()

    assert shared.name in listing
    assert edit.status_code == 302 and shared.name != "Mine now"
