"""Reading what an email carries: every src/href of its HTML, URLs of its text."""

import re
from html.parser import HTMLParser

URL_IN_TEXT = re.compile(r"https?://\S+|(?<![\w/])/[\w./-]+")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.found.append((tag, name, value))


def links(html: str) -> list[tuple[str, str, str]]:
    """(tag, attribute, value) of every src and href in `html`."""
    parser = _Links()
    parser.feed(html)
    return parser.found


def html_part(email) -> str:
    """The text/html alternative of a Django EmailMessage from mail.outbox."""
    return next(body for body, kind in email.alternatives if kind == "text/html")
