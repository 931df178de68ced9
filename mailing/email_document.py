"""A message as a whole email: its layout around the body, the mandatory footer,
absolute URLs and inlined CSS, and the plain-text part. Done once per run."""

import html
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import linebreaks
from django.utils.safestring import mark_safe

from .email_html import email_rich_text, inline_css
from .email_text import html_to_text
from .models import EmailLayout, Message
from .rendering import LIST_UNSUBSCRIBE_SLOT, WEB_VERSION_SLOT
from .senders import Sender, sender_for

# Where the footer's "view in browser" link goes (rendering.py makes it a format
# field, filled per recipient). Its private-use character is removed from user
# text, so only the layout can place it.
SLOT_MARK = WEB_VERSION_SLOT[0]


@dataclass(frozen=True)
class EmailDocument:
    subject: str
    html: str
    text: str
    sender: Sender
    language: str
    # The footer's web version link, filled per recipient around the URL.
    web_link_html: tuple[str, str]
    web_link_text: str
    # The footer's link to leave the mailing's lists only, the same way.
    list_link_html: tuple[str, str] = ("", "")
    list_link_text: str = ""


def layout_for(message: Message) -> EmailLayout | None:
    """The message's layout if its owner may use it, else the shared default."""
    if message.layout_id is not None:
        layout = (
            EmailLayout.objects.for_user(message.owner)
            .filter(pk=message.layout_id)
            .first()
        )
        if layout is not None:
            return layout
    return EmailLayout.objects.default_for(message.owner.language)


def _blocks(layout: EmailLayout | None) -> list:
    """The layout's blocks with None where the message body goes."""
    blocks = list(layout.body) if layout is not None else []
    if any(block.block_type == "message_body" for block in blocks):
        return [None if b.block_type == "message_body" else b for b in blocks]
    headers = 0
    while headers < len(blocks) and blocks[headers].block_type == "header":
        headers += 1
    return [*blocks[:headers], None, *blocks[headers:]]


def _user_text(value: str) -> str:
    return value.replace(SLOT_MARK, "")


def body_html(message: Message) -> str:
    if message.html_body.strip():
        return email_rich_text(_user_text(message.html_body))
    return linebreaks(html.escape(_user_text(message.body)))


def build_document(
    message: Message, layout: EmailLayout | None = None
) -> EmailDocument:
    """The message in its layout; `layout` overrides it (a layout's own preview)."""
    layout = layout or layout_for(message)
    sender = sender_for(message)
    language = layout.language if layout is not None else settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "language": language,
            "subject": message.subject,
            "blocks": _blocks(layout),
            "content": mark_safe(body_html(message)),  # noqa: S308  # nosec B308 B703 - sanitised by nh3
            "postal_address": sender.postal_address,
            "sender_name": sender.name,
            "unsubscribe_placeholder": "{{ unsubscribe_url }}",
            "web_version_slot": WEB_VERSION_SLOT,
            "list_unsubscribe_slot": LIST_UNSUBSCRIBE_SLOT,
        }
        document = inline_css(render_to_string("mailing/email/layout.html", context))
        footer_text = render_to_string("mailing/email/footer.txt", context).strip()
        label = translation.gettext("View in browser")
        list_label = translation.gettext("Leave this list only")
    if message.body.strip():
        text = f"{_user_text(message.body).rstrip()}\n\n-- \n{footer_text}"
    else:
        text = html_to_text(document)
    return EmailDocument(
        subject=message.subject,
        html=document,
        text=text,
        sender=sender,
        language=language,
        web_link_html=footer_link(label),
        web_link_text=f"\n{label}: ",
        list_link_html=footer_link(list_label),
        list_link_text=f"\n{list_label}: ",
    )


def footer_link(label: str) -> tuple[str, str]:
    """A footer link's HTML before and after its URL (filled per recipient)."""
    return (
        ' · <a href="',
        f'" style="color: #55606e;text-decoration: underline;">'
        f"{html.escape(label)}</a>",
    )
