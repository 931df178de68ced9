""" "Send as newsletter" from a blog post's admin: editors with the permission send
a live post to their own recipients, now or later; every other role is refused."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from mailing.models import Mailing
from tests.factories import (
    make_blog_index,
    make_client,
    make_list,
    make_post,
    make_user,
)

from .email_parts import html_part, links

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def post():
    body = [{"type": "paragraph", "value": "<p>The whole story, told here.</p>"}]
    return make_post(make_blog_index(), title="Big news", intro="In short", body=body)


def form_url(post):
    return reverse("mailing_send_newsletter", args=[post.pk])


def test_an_editor_sends_a_post_to_their_own_recipients_now(
    client, post, django_capture_on_commit_callbacks
):
    editor = make_user("editor", language="en")
    # The links as written (tracked ones are click redirects: test_tracking).
    editor.track_engagement = False
    editor.save(update_fields=["track_engagement"])
    mine = make_client(editor, email="reader@example.org")
    readers = make_list(editor, clients=[mine])
    client.force_login(editor)

    edit_page = client.get(reverse("wagtailadmin_pages:edit", args=[post.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            form_url(post), {"subject": "Big news!", "lists": [readers.pk]}
        )

    mailing = Mailing.objects.get(owner=editor)
    sent = mail.outbox[-1]
    assert form_url(post) in edit_page.content.decode()  # the action menu item
    assert response.status_code == 302
    assert list(mailing.lists.all()) == [readers]
    assert mailing.runs.count() == 1
    assert sent.to == [f"{mine.full_name} <reader@example.org>"]
    assert sent.subject == "Big news!"
    assert "The whole story, told here." in html_part(sent)
    assert any(
        value.endswith(post.url) and value.startswith("http")
        for _t, _a, value in links(html_part(sent))
    )


def test_a_later_time_schedules_instead_of_sending(client, post):
    editor = make_user("editor", language="en")
    make_client(editor)
    client.force_login(editor)
    later = timezone.localtime() + timedelta(days=2)

    client.post(
        form_url(post),
        {
            "subject": "Later",
            "all_clients": "on",
            "send_at": later.strftime("%Y-%m-%d %H:%M"),
        },
    )

    mailing = Mailing.objects.get(owner=editor)
    assert not mailing.runs.exists() and mail.outbox == []
    assert abs(mailing.next_send_at - later) < timedelta(minutes=1)


def test_another_owners_lists_cannot_be_chosen(client, post):
    editor, other = make_user("editor"), make_user()
    theirs = make_list(other, clients=[make_client(other)])
    client.force_login(editor)

    response = client.post(form_url(post), {"subject": "x", "lists": [theirs.pk]})

    assert response.status_code == 200  # the form again, with the error
    assert not Mailing.objects.exists() and mail.outbox == []


@pytest.mark.parametrize("role", ["mailing_user", "manager"])
def test_other_roles_are_refused(client, post, role):
    user = make_user(role)
    make_client(user)
    client.force_login(user)

    shown = client.get(form_url(post))
    sent = client.post(form_url(post), {"subject": "x", "all_clients": "on"})

    for response in (shown, sent):
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")
    assert not Mailing.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, post):
    response = client.get(form_url(post))

    assert response.status_code == 302 and "login" in response["Location"]


def test_a_draft_cannot_be_sent_and_the_menu_item_hides(client):
    draft = make_post(make_blog_index(), title="Not yet", publish=False)
    editor = make_user("editor")
    client.force_login(editor)

    edit_page = client.get(reverse("wagtailadmin_pages:edit", args=[draft.pk]))
    response = client.get(form_url(draft))

    assert form_url(draft) not in edit_page.content.decode()
    assert response.status_code == 302
