"""Digest mailings: each run sends exactly the posts first published since the
previous run, under the owner's introduction; a run with nothing new is skipped."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from blog.models import BlogPage
from mailing import services
from mailing.models import MailingRun
from mailing.sending import pipeline
from tests.factories import (
    make_blog_index,
    make_client,
    make_image,
    make_mailing,
    make_message,
    make_post,
    make_user,
    translate,
)

from .email_parts import html_part, links
from .smtp_servers import RecordingHandler, smtp_server, smtp_settings

pytestmark = pytest.mark.django_db
BASE = "https://mail.vestnik.example"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def published_at(post, when):
    """Posts are published now in tests: put their first publication in the past."""
    BlogPage.objects.filter(pk=post.pk).update(first_published_at=when)


def digest(owner, created_at):
    intro = make_message(
        owner,
        subject="Weekly digest",
        body="",
        html_body="<p>Hello {{ full_name }}, here is what is new.</p>",
    )
    mailing = make_mailing(
        owner,
        message=intro,
        clients=[make_client(owner)],
        is_digest=True,
        track_engagement=False,  # the links as written (tracked: test_tracking)
    )
    type(mailing).objects.filter(pk=mailing.pk).update(created_at=created_at)
    mailing.refresh_from_db()
    return mailing


def run_at(mailing, when) -> MailingRun:
    with override_settings(BASE_URL=BASE):
        run = services.open_run(mailing, "manual", when)
        pipeline.send_run(run.pk)
    run.refresh_from_db()
    return run


@override_settings(BASE_URL=BASE)
def test_each_run_picks_exactly_the_posts_published_since_the_previous_one():
    owner = make_user(language="en")
    start = timezone.now() - timedelta(days=30)
    mailing = digest(owner, start)
    index = make_blog_index()
    before = make_post(index, title="Before the mailing")
    first = make_post(index, title="First week", main_image=make_image("Sea"))
    second = make_post(index, title="Second week", intro="Summary of the second")
    draft = make_post(index, title="A draft", publish=False)
    published_at(before, start - timedelta(days=1))
    published_at(first, start + timedelta(days=3))
    published_at(second, start + timedelta(days=10))

    run_at(mailing, start + timedelta(days=7))
    one = mail.outbox[-1]
    run_at(mailing, timezone.now())
    two = mail.outbox[-1]

    assert len(mail.outbox) == 2
    assert "First week" in html_part(one) and "Second week" not in html_part(one)
    assert "Second week" in html_part(two) and "First week" not in html_part(two)
    for sent in (one, two):
        assert "here is what is new" in html_part(sent)  # the owner's intro
        assert "Before the mailing" not in html_part(sent)
        assert draft.title not in html_part(sent)
        for _tag, _attribute, value in links(html_part(sent)):
            assert value.startswith(BASE + "/"), value
    assert "Summary of the second" in html_part(two)
    assert any(
        "/media/images/" in v for _t, a, v in links(html_part(one)) if a == "src"
    )
    assert any(v.endswith(first.url) for _t, _a, v in links(html_part(one)))
    assert f"{second.url} " in two.body.replace("\n", " ")  # text part lists it


def test_a_run_with_nothing_new_is_skipped_and_the_report_says_so(client):
    owner = make_user(language="en")
    mailing = digest(owner, timezone.now() - timedelta(days=7))
    make_post(make_blog_index(), title="Old news")
    published_at(BlogPage.objects.get(title="Old news"), mailing.created_at)

    run = run_at(mailing, timezone.now())
    client.force_login(owner)
    report = client.get(reverse("mailing_mailing:report", args=[mailing.pk]))

    assert run.status == MailingRun.Status.SKIPPED
    assert not run.attempts.exists() and mail.outbox == []
    assert run.skipped_count == 1
    # The admin speaks the owner's language (accounts.language).
    assert "No new blog post since the previous issue" in report.content.decode()


def test_send_now_on_a_digest_with_nothing_new_says_it_was_skipped(client):
    owner = make_user(language="en")
    mailing = digest(owner, timezone.now())
    mailing.first_send_at = timezone.now() + timedelta(days=1)
    mailing.save()
    client.force_login(owner)

    response = client.post(
        reverse("mailing_mailing:send_now", args=[mailing.pk]), follow=True
    )

    assert "nothing was sent" in response.content.decode()
    assert mailing.runs.get().status == MailingRun.Status.SKIPPED
    assert mail.outbox == []


def test_a_post_and_its_translation_go_out_once_in_each_digests_language():
    """Seen in a received digest: a Russian one listed every post twice, the
    English translations too, and both copies led to the Russian page (Wagtail
    links a page to its translation in the language being rendered)."""
    start = timezone.now() - timedelta(days=7)
    index = make_blog_index()
    translate(index, "en")
    post = make_post(index, title="Первая рассылка", main_image=make_image("Море"))
    english = translate(post, "en", title="Your first mailing", slug="first")
    only_russian = make_post(index, title="Только по-русски")
    readers = {
        language: digest(make_user(language=language), start)
        for language in ("ru", "en")
    }
    handler = RecordingHandler()

    with smtp_server(handler) as port, override_settings(**smtp_settings(port)):
        for mailing in readers.values():
            run_at(mailing, timezone.now())

    received = {email["List-Id"]: email for email in handler.messages}
    for language, title, page in (
        ("ru", "Первая рассылка", post),
        ("en", "Your first mailing", english),
    ):
        email = received[f"<mailing-{readers[language].pk}.localhost>"]
        html = email.get_body(("html",)).get_content()
        text = email.get_body(("plain",)).get_content()
        other = "Your first mailing" if language == "ru" else "Первая рассылка"
        hrefs = [v for _t, a, v in links(html) if a == "href" and "/blog/" in v]
        assert html.count(title) == 2 and other not in html  # heading, image alt
        assert title in text and other not in text
        assert only_russian.title in html  # untranslated: in its own language
        assert sorted(set(hrefs)) == sorted({BASE + page.url, BASE + only_russian.url})
