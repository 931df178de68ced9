"""The plain-text part made from an email's HTML, for readers without HTML.

Written here on BeautifulSoup (already installed with Wagtail) rather than taken
from html2text (GPL, Markdown output) or inscriptis (pads table cells with spaces
and writes links inline): a letter reads best as paragraphs with numbered link
references, "Read more [1]", and the addresses listed at the end.
"""

import re

from bs4 import BeautifulSoup, NavigableString, Tag

BLOCKS = {
    "p", "div", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "li", "blockquote", "hr", "center", "section",
}  # fmt: skip
SKIPPED = {"style", "script", "head", "title"}


class _TextWriter:
    def __init__(self):
        self.out = ""
        self.links: list[str] = []

    def text(self, value: str) -> None:
        value = re.sub(r"\s+", " ", value)
        if not self.out or self.out.endswith("\n"):
            value = value.lstrip()
        self.out += value

    def newlines(self, count: int) -> None:
        """At least `count` line breaks here (2: a new paragraph), none at the top."""
        self.out = self.out.rstrip(" ")
        if self.out:
            present = len(self.out) - len(self.out.rstrip("\n"))
            self.out += "\n" * max(0, count - present)

    def link(self, href: str) -> str:
        if href not in self.links:
            self.links.append(href)
        return f" [{self.links.index(href) + 1}]"

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not a comment or doctype
                    self.text(str(child))
                continue
            self.element(child)

    def element(self, tag: Tag) -> None:
        name = tag.name
        if name in SKIPPED:
            return
        if name == "br":
            self.newlines(1)
            return
        if name == "img":
            alt = (tag.get("alt") or "").strip()
            if alt:
                self.text(f"[{alt}]")
            return
        gap = 1 if name in ("li", "tr") else 2
        if name in BLOCKS:
            self.newlines(gap)
        if name == "li":
            self.text("- ")
        if name == "hr":
            self.text("----------")
        self.walk(tag)
        href = (tag.get("href") or "").strip() if name == "a" else ""
        if href and not href.startswith("#"):
            # A linked picture is written as its [alt]: it needs the link too.
            label = tag.get_text(" ", strip=True) or _alts(tag)
            self.text(self.link(href) if label and label != href else "")
        if name in BLOCKS:
            self.newlines(gap)

    def result(self) -> str:
        text = re.sub(r"\n{3,}", "\n\n", self.out).strip()
        if self.links:
            listed = "\n".join(f"[{n}] {href}" for n, href in enumerate(self.links, 1))
            text += "\n\n" + listed
        return text


def _alts(tag: Tag) -> str:
    return " ".join((img.get("alt") or "").strip() for img in tag.find_all("img"))


def html_to_text(markup: str) -> str:
    writer = _TextWriter()
    writer.walk(BeautifulSoup(markup, "html.parser"))
    return writer.result()
