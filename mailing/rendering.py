"""Personalising a message for one client.

User text is never compiled as a Django template: only the whitelisted placeholders
below are replaced, so `{{ settings.SECRET_KEY }}` or `{% debug %}` in a body comes
out literally.
"""

import html
import re
from dataclasses import dataclass

import nh3
from django.utils.html import linebreaks
from wagtail.rich_text import expand_db_html

PLACEHOLDERS = ("full_name", "email", "unsubscribe_url")
_PLACEHOLDER = re.compile(r"\{\{\s*(" + "|".join(PLACEHOLDERS) + r")\s*\}\}")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def substitute(template: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def compile_template(template: str) -> str:
    """The template as a str.format pattern: substituting then runs in C.

    Only the whitelisted placeholders become fields; every other brace is doubled,
    so user text can never reach format's attribute or index lookups.
    """
    pieces = _PLACEHOLDER.split(template)
    # split() alternates literal text and the captured placeholder name.
    return "".join(
        "{" + piece + "}" if odd else piece.replace("{", "{{").replace("}", "}}")
        for odd, piece in ((n % 2, p) for n, p in enumerate(pieces))
    )


def single_line(value: str) -> str:
    """Header-safe: CR, LF and other line breaks never reach an email header."""
    return " ".join(value.split())


def sanitise_html(markup: str) -> str:
    """Allow-list sanitiser for user-written HTML (scripts, handlers, styles go)."""
    return nh3.clean(markup)


_RICH_TEXT_ATTRIBUTES = {
    **nh3.ALLOWED_ATTRIBUTES,
    # Wagtail's stored link format: <a linktype="page" id="3">.
    "a": nh3.ALLOWED_ATTRIBUTES["a"] | {"linktype", "id"},
}


def sanitise_rich_text(markup: str) -> str:
    """Wagtail's stored rich text, sanitised and well-formed.

    Rows written around the editor (ORM, imports) must not carry scripts, and the
    editor itself refuses to open unbalanced markup.
    """
    return nh3.clean(markup, attributes=_RICH_TEXT_ATTRIBUTES, link_rel=None)


@dataclass(frozen=True)
class PreparedMessage:
    """A message with its HTML expanded and sanitised once, ready for each client.

    Expanding rich text and sanitising it is the costly part of rendering: a run
    does it once, then only substitutes placeholders per recipient.
    """

    subject: str
    text: str
    html: str

    def __post_init__(self):
        for part in ("subject", "text", "html"):
            object.__setattr__(self, f"_{part}", compile_template(getattr(self, part)))

    def render(self, full_name: str, email: str, unsubscribe_url: str) -> RenderedEmail:
        return RenderedEmail(
            subject=single_line(self.subject_for(full_name, email, unsubscribe_url)),
            text=self.text_for(full_name, email, unsubscribe_url),
            html=self.html_for(full_name, email, unsubscribe_url),
        )

    def subject_for(self, full_name: str, email: str, unsubscribe_url: str) -> str:
        return self._subject.format(
            full_name=full_name, email=email, unsubscribe_url=unsubscribe_url
        )

    def text_for(self, full_name: str, email: str, unsubscribe_url: str) -> str:
        return self._text.format(
            full_name=full_name, email=email, unsubscribe_url=unsubscribe_url
        )

    def html_for(self, full_name: str, email: str, unsubscribe_url: str) -> str:
        return self._html.format(
            full_name=html.escape(full_name),
            email=html.escape(email),
            unsubscribe_url=html.escape(unsubscribe_url),
        )


def prepare_message(message) -> PreparedMessage:
    if message.html_body:
        html_template = sanitise_html(expand_db_html(message.html_body))
    else:
        html_template = linebreaks(html.escape(message.body))
    return PreparedMessage(message.subject, message.body, html_template)


def render_email(message, client, unsubscribe_url: str) -> RenderedEmail:
    return prepare_message(message).render(
        client.full_name, client.email, unsubscribe_url
    )
