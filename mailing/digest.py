"""Digest mailings: each run's email is the owner's message as the introduction,
then the blog posts published since the previous run (title, picture, summary,
link). A run with no new post sends nothing and says so.

The posts are written as Wagtail's stored rich text (page links, image embeds), so
the one email path makes their links absolute and their pictures email renditions.
"""

from datetime import datetime
from html import escape

from django.utils import translation
from django.utils.html import linebreaks
from django.utils.translation import gettext as _

from blog.digest import posts_published_between

from .models import Mailing, MailingRun, Message


def digest_period(mailing: Mailing, slot: datetime) -> tuple[datetime, datetime]:
    """(after, until]: from the previous run's slot (skipped runs count) to this
    one's; the first run starts when the mailing was created.

    Slots, not clocks: a run opened late leaves the posts after its slot to the
    next run, so no post is sent twice or never.
    """
    previous = (
        MailingRun.objects.filter(mailing=mailing, slot__lt=slot)
        .order_by("-slot", "-pk")
        .values_list("slot", flat=True)
        .first()
    )
    return previous or mailing.created_at, slot


def new_posts(mailing: Mailing, slot: datetime) -> list:
    """The period's posts, each once, in the language the email is written in."""
    return posts_published_between(
        *digest_period(mailing, slot), language=digest_language(mailing.message)
    )


def digest_language(message: Message) -> str | None:
    from .email_document import layout_for

    layout = layout_for(message)
    return layout.language if layout else None


def post_html(post) -> str:
    parts = [f'<h3><a linktype="page" id="{post.pk}">{escape(post.title)}</a></h3>']
    if post.main_image_id:
        # The post's title: the image's own is one for all the translations.
        alt = escape(post.title, quote=True)
        parts.append(
            f'<embed embedtype="image" id="{post.main_image_id}" format="fullwidth" '
            f'alt="{alt}"/>'
        )
    if post.intro:
        parts.append(f"<p>{escape(post.intro)}</p>")
    label = escape(_("Read the post"))
    parts.append(f'<p><a linktype="page" id="{post.pk}">{label}</a></p>')
    return "".join(parts)


def digest_message(message: Message, posts: list) -> Message:
    """An unsaved copy of the message with the posts under its body."""
    intro = message.html_body.strip() or linebreaks(escape(message.body))
    with translation.override(digest_language(message)):
        posts_html = "<hr>".join(post_html(post) for post in posts)
    return Message(
        owner=message.owner,
        subject=message.subject,
        body="",  # the text part is made from the whole HTML, posts included
        html_body=f"{intro}<hr>{posts_html}",
        layout_id=message.layout_id,
        sender_id=message.sender_id,
    )
