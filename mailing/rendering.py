"""Personalising a message for one client.

User text is never compiled as a Django template: only the whitelisted placeholders
below are replaced, so `{{ settings.SECRET_KEY }}` or `{% debug %}` in a body comes
out literally. Besides them, a merge tag names a client attribute (a declared
field's key), with an optional fallback for a missing or empty value:
`{{ first_name|default:"друг" }}`. Values are inserted as text (escaped in HTML),
never read as a template.
"""

import html
import re
from dataclasses import dataclass
from string import Formatter

import nh3

PLACEHOLDERS = ("full_name", "email", "unsubscribe_url")
# Marks the footer's "view in browser" slot in a prepared email (see email_document).
WEB_VERSION_SLOT = "\ue000VESTNIK_WEB_VERSION\ue000"
# Marks the footer's "leave this list" slot, filled where a mailing targets lists.
LIST_UNSUBSCRIBE_SLOT = "\ue000VESTNIK_LIST_UNSUBSCRIBE\ue000"
# Marks the recipient's attempt token in tracked links and the open pixel (tracking).
TRACKING_SLOT = "\ue000VESTNIK_TRACKING\ue000"
_PLACEHOLDER = re.compile(r"\{\{\s*(" + "|".join(PLACEHOLDERS) + r")\s*\}\}")
# {{ key }} or {{ key|default:"text" }}; the rich text editor writes &quot;.
_MERGE_TAG = re.compile(
    r"\{\{\s*([a-z][a-z0-9_]*)\s*"
    r'(?:\|\s*default\s*:\s*(?:"([^"{}\r\n]*)"|&quot;((?:(?!&quot;)[^{}\r\n])*)&quot;)\s*)?'
    r"\}\}"
)


@dataclass(frozen=True)
class MergeTag:
    """A client value a template asks for, and the text shown without one."""

    key: str
    fallback: str = ""

    def value(self, builtins: dict[str, str], attributes: dict | None) -> str:
        if self.key in builtins:
            found = builtins[self.key]
        else:
            found = (attributes or {}).get(self.key)
        return shown_value(found) or self.fallback


def shown_value(value) -> str:
    from django.utils.translation import gettext

    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return " ".join(str(value).split())


def merge_tags_of(template: str, tags: list[MergeTag], markup: bool = False) -> str:
    """The template with each merge tag that is not a plain placeholder replaced by
    a numbered slot (`\ue002<n>\ue002`) into `tags`; compile_template makes the
    slots format fields. In markup, a fallback is HTML-encoded text: it is decoded
    here, since every value is escaped once when it goes in."""

    def slot(match) -> str:
        key, fallback = match.group(1), match.group(2) or match.group(3)
        if key in PLACEHOLDERS and fallback is None:
            return match.group(0)
        fallback = fallback or ""
        tags.append(MergeTag(key, html.unescape(fallback) if markup else fallback))
        return f"\ue002{len(tags) - 1}\ue002"

    return _MERGE_TAG.sub(slot, template)


_SLOT = re.compile("\ue002([0-9]+)\ue002")


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
    compiled = "".join(
        "{" + piece + "}" if odd else piece.replace("{", "{{").replace("}", "}}")
        for odd, piece in ((n % 2, p) for n, p in enumerate(pieces))
    )
    return _SLOT.sub(r"{m\1}", compiled)  # merge tags' slots (merge_tags_of)


def pieces(compiled: str) -> list[tuple[str, str | None]]:
    """A compiled template as (literal, field) pairs, parsed once.

    Joining the pairs is five times faster than `str.format` on a whole email,
    which re-parses its few kilobytes (and every doubled CSS brace) per recipient.
    """
    return [(literal, field) for literal, field, _, _ in Formatter().parse(compiled)]


class Filler:
    """A compiled template's pieces as one list of literals with a slot for each
    field, runs of literals joined (a CSS brace, doubled, ends a piece): filling
    copies the list and sets the slots, three times faster than joining each
    literal to its value, piece by piece, for a 4 kB HTML part."""

    def __init__(self, parts: list[tuple[str, str | None]]):
        flat: list[str] = []
        slots: list[tuple[int, str]] = []
        after_slot = True  # nothing to join the next literal to
        for literal, field in parts:
            if literal and not after_slot:
                flat[-1] += literal
            elif literal:
                flat.append(literal)
                after_slot = False
            if field:
                slots.append((len(flat), field))
                flat.append("")
                after_slot = True
        self.flat, self.slots = flat, tuple(slots)

    def __call__(self, values: dict[str, str]) -> str:
        filled = self.flat.copy()
        for at, field in self.slots:
            filled[at] = values[field]
        return "".join(filled)


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
    # Wagtail's stored image: <embed embedtype="image" id="3" format="left" alt="">.
    "embed": {"embedtype", "id", "format", "alt"},
}
_RICH_TEXT_TAGS = nh3.ALLOWED_TAGS | {"embed"}
_EMBED = re.compile(r"<embed\b([^>]*?)\s*/?>")


def _stored_embed(tag: str, attribute: str, value: str) -> str | None:
    # Images only: a media embed (an iframe from anywhere) has no place in mail.
    if tag == "embed" and attribute == "embedtype" and value != "image":
        return None
    return value


def sanitise_rich_text(markup: str) -> str:
    """Wagtail's stored rich text, sanitised and well-formed.

    Rows written around the editor (ORM, imports) must not carry scripts, and the
    editor itself refuses to open unbalanced markup.
    """
    clean = nh3.clean(
        markup,
        tags=_RICH_TEXT_TAGS,
        attributes=_RICH_TEXT_ATTRIBUTES,
        attribute_filter=_stored_embed,
        link_rel=None,
    )
    # Wagtail reads only the self-closed form; nh3 writes HTML's <embed ...>.
    return _EMBED.sub(r"<embed\1/>", clean)


@dataclass(frozen=True)
class PreparedMessage:
    """A message as a whole email (layout, footer, absolute URLs, inlined CSS, text
    part), built once per run; each recipient then costs only `str.format`.

    `web_link` holds the footer's "view in browser" link around its URL, (HTML
    before, HTML after, text before); empty for a part without the slot.
    `list_link` is the same for the footer's "leave this list" link.
    """

    subject: str
    text: str
    html: str
    from_email: str = ""
    reply_to: str = ""
    web_link: tuple[str, str, str] = ("", "", "")
    list_link: tuple[str, str, str] = ("", "", "")

    def __post_init__(self):
        tags: list[MergeTag] = []
        subject = merge_tags_of(self.subject, tags)
        object.__setattr__(self, "_subject", compile_template(subject))
        for part in ("text", "html"):
            marked = merge_tags_of(getattr(self, part), tags, markup=part == "html")
            compiled = compile_template(marked)
            compiled = compiled.replace(WEB_VERSION_SLOT, "{web_version_link}")
            compiled = compiled.replace(LIST_UNSUBSCRIBE_SLOT, "{list_link}")
            compiled = compiled.replace(TRACKING_SLOT, "{tracking}")
            object.__setattr__(self, f"_{part}", pieces(compiled))
            object.__setattr__(
                self, f"_{part}_filler", Filler(getattr(self, f"_{part}"))
            )
        object.__setattr__(self, "merge_tags", tuple(tags))

    def literal_extent(self, part: str) -> tuple[int, int]:
        """(bytes of the part's own text, its longest line with every field empty),
        UTF-8: what every recipient's copy of the part shares (see mime.RunWire)."""
        literal = "".join(text for text, _field in getattr(self, f"_{part}"))
        encoded = literal.encode()
        return len(encoded), max(map(len, encoded.split(b"\r\n")))

    @property
    def uses_attributes(self) -> bool:
        """Whether a recipient's attributes are needed to fill this email."""
        return any(tag.key not in PLACEHOLDERS for tag in self.merge_tags)

    def merged(self, builtins: dict[str, str], attributes, escape=None) -> dict:
        """The merge tags' values for one recipient (none: an empty dict)."""
        if not self.merge_tags:
            return {}
        escape = escape or (lambda text: text)
        return {
            f"m{n}": escape(tag.value(builtins, attributes))
            for n, tag in enumerate(self.merge_tags)
        }

    def render(
        self,
        full_name: str,
        email: str,
        unsubscribe_url: str,
        web_version_url: str = "",
        tracking: str = "",
        attributes: dict | None = None,
        list_url: str = "",
    ) -> RenderedEmail:
        return RenderedEmail(
            subject=single_line(
                self.subject_for(full_name, email, unsubscribe_url, attributes)
            ),
            text=self.text_for(
                full_name,
                email,
                unsubscribe_url,
                web_version_url,
                attributes,
                list_url,
            ),
            html=self.html_for(
                full_name,
                email,
                unsubscribe_url,
                web_version_url,
                tracking,
                attributes,
                list_url,
            ),
        )

    def subject_for(
        self, full_name: str, email: str, unsubscribe_url: str, attributes=None
    ) -> str:
        builtins = {
            "full_name": full_name,
            "email": email,
            "unsubscribe_url": unsubscribe_url,
        }
        return self._subject.format(
            **builtins, **self.merged(builtins, attributes, single_line)
        )

    def text_for(self, *recipient, **values) -> str:
        """The text part for one recipient (text_values' arguments)."""
        return self._text_filler(self.text_values(*recipient, **values))

    def text_values(
        self,
        full_name: str,
        email: str,
        unsubscribe_url: str,
        web_version_url="",
        attributes=None,
        list_url: str = "",
    ) -> dict[str, str]:
        """Each field's value in the text part (text_for fills them in)."""
        link = self.web_link[2] + web_version_url if web_version_url else ""
        builtins = {
            "full_name": full_name,
            "email": email,
            "unsubscribe_url": unsubscribe_url,
        }
        return {
            **builtins,
            "web_version_link": link,
            "list_link": self.list_link[2] + list_url if list_url else "",
            "tracking": "",
            **self.merged(builtins, attributes),
        }

    def html_for(self, *recipient, **values) -> str:
        """The HTML part for one recipient (html_values' arguments)."""
        return self._html_filler(self.html_values(*recipient, **values))

    def html_values(
        self,
        full_name: str,
        email: str,
        unsubscribe_url: str,
        web_version_url="",
        tracking: str = "",
        attributes=None,
        list_url: str = "",
    ) -> dict[str, str]:
        """Each field's value in the HTML part, escaped (html_for fills them in)."""
        builtins = {
            "full_name": full_name,
            "email": email,
            "unsubscribe_url": unsubscribe_url,
        }
        return {
            "full_name": html.escape(full_name),
            "email": html.escape(email),
            "unsubscribe_url": html.escape(unsubscribe_url),
            "web_version_link": around(self.web_link, web_version_url),
            "list_link": around(self.list_link, list_url),
            "tracking": tracking,  # the attempt token (tracking.py)
            **self.merged(builtins, attributes, html.escape),
        }

    def filled(self, part: str, values: dict[str, str]) -> str:
        """The part ("text" or "html") with its fields' values (text_values,
        html_values) in place."""
        return getattr(self, f"_{part}_filler")(values)

    def field_lines(self, part: str) -> "FieldLines":
        """The part's lines as UTF-8 bytes of its own text and the fields on each,
        what bounds every recipient's line lengths (see mime.RunWire)."""
        return FieldLines.of(getattr(self, f"_{part}"))


@dataclass(frozen=True)
class FieldLines:
    """A template's lines (split at its CRLFs): the longest without a field, and
    (bytes of its own text, its fields) for each line with one.

    A line of the filled part is at most its template line's text plus the
    values' bytes on it: a value's own line breaks only split it further (no
    template CRLF has a field inside it).
    """

    longest_fixed: int
    with_fields: tuple[tuple[int, tuple[str, ...]], ...]

    @classmethod
    def of(cls, parts: list[tuple[str, str | None]]) -> "FieldLines":
        fixed, with_fields = [0], []
        size, fields = 0, []
        for literal, field in parts:
            first, *rest = literal.split("\r\n")
            size += len(first.encode())
            for segment in rest:
                if fields:
                    with_fields.append((size, tuple(fields)))
                else:
                    fixed.append(size)
                size, fields = len(segment.encode()), []
            if field:
                fields.append(field)
        if fields:
            with_fields.append((size, tuple(fields)))
        else:
            fixed.append(size)
        return cls(max(fixed), tuple(with_fields))

    def longest(self, values: dict[str, str]) -> int:
        """The most bytes a line of the part filled with `values` can have."""
        longest = self.longest_fixed
        for size, fields in self.with_fields:
            for field in fields:
                value = values[field]
                size += len(value) if value.isascii() else len(value.encode())
            longest = max(longest, size)
        return longest


def around(link: tuple[str, str, str], url: str) -> str:
    """A footer link's HTML around its URL; none without a URL."""
    before, after, _text = link
    return before + html.escape(url) + after if url else ""


def prepare_message(message, layout=None) -> PreparedMessage:
    """The message as its recipients get it; once per run (or preview, test send).

    `layout` replaces the message's own (the layout editor previews unsaved blocks).
    """
    from .email_document import build_document

    document = build_document(message, layout)
    return PreparedMessage(
        document.subject,
        document.text,
        document.html,
        from_email=document.sender.from_header,
        reply_to=document.sender.reply_to,
        web_link=(*document.web_link_html, document.web_link_text),
        list_link=(*document.list_link_html, document.list_link_text),
    )


def render_email(message, client, unsubscribe_url: str) -> RenderedEmail:
    return prepare_message(message).render(
        client.full_name,
        client.email,
        unsubscribe_url,
        attributes=getattr(client, "attributes", None),
    )
