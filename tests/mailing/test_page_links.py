"""Rich-text page links in mail lead only to pages everyone can open.

A message body's or a layout text block's <a linktype="page" id=".."> can name a
draft, a private page or one under a private section (an id typed into the
stored HTML, the API, or a page unpublished after the message was written).
Each render links only a live, public page; any other keeps its words and loses
the link, so no draft's or private page's address goes out to the recipients.
"""

import pytest
from django.core.cache import cache
from wagtail.models import PageViewRestriction

from mailing.email_html import absolute_url
from mailing.rendering import prepare_message
from tests.factories import (
    make_blog_index,
    make_layout,
    make_message,
    make_post,
    make_user,
)

from .email_parts import links

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def restrict(page) -> None:
    PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.LOGIN
    )


def pages():
    index = make_blog_index()
    private_section = make_blog_index(title="Members", slug="members")
    restrict(private_section)
    private = make_post(index, title="Private")
    restrict(private)
    return {
        "public": make_post(index, title="Public"),
        "draft": make_post(index, title="Draft", publish=False),
        "private": private,
        "in a private section": make_post(private_section, title="Inside"),
    }


def linked(pages_by_words) -> str:
    return "".join(
        f'<p><a linktype="page" id="{page.pk}">{words}</a></p>'
        for words, page in pages_by_words.items()
    )


def address(page) -> str:
    return absolute_url(page.url)


def hrefs(html: str) -> set[str]:
    return {value for tag, name, value in links(html) if tag == "a"}


def test_a_message_links_only_its_live_public_pages():
    found = pages()
    message = make_message(make_user(), html_body=linked(found), body="")

    html = prepare_message(message).html

    assert address(found["public"]) in hrefs(html)
    for words in ("draft", "private", "in a private section"):
        assert found[words].url not in html
        assert found[words].url not in prepare_message(message).text
        assert f">{words}</p>" in html  # the words stay, without a link
    assert "<a rel" not in html


def test_a_layout_text_block_links_only_live_public_pages():
    found = pages()
    owner = make_user()
    text = {"type": "text", "value": linked(found)}
    layout = make_layout(owner, blocks=[{"type": "message_body", "value": None}, text])
    message = make_message(owner, layout=layout)

    html = prepare_message(message).html

    assert address(found["public"]) in hrefs(html)
    for words in ("draft", "private", "in a private section"):
        assert found[words].url not in html
        assert f">{words}</p>" in html


def test_a_page_unpublished_after_writing_loses_its_link_a_deleted_one_too():
    found = pages()
    public = found["public"]
    message = make_message(make_user(), html_body=linked({"news": public}), body="")
    assert address(public) in hrefs(prepare_message(message).html)

    public.unpublish()
    assert public.url not in prepare_message(message).html

    public.delete()
    html = prepare_message(message).html
    assert ">news</p>" in html
    assert "<a rel" not in html
