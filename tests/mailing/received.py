"""Checks on an email as an SMTP server received it (an email.message.EmailMessage
parsed with policy.default), shared by the account and site email tests."""

import re
from contextlib import contextmanager

from bs4 import BeautifulSoup
from django.test import override_settings

from .email_parts import links
from .smtp_servers import RecordingHandler, smtp_server, smtp_settings

SITE = "https://mail.vestnik.example"
FROM = "Vestnik <noreply@vestnik.example>"
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
URL = re.compile(r"https?://\S+")
ENTITY = re.compile(r"&(amp|lt|gt|quot|#x27|#39);")


@contextmanager
def receiving():
    """Everything sent inside goes over SMTP to a server on loopback, from the
    site's production-like address; yields the handler (.messages: received)."""
    handler = RecordingHandler()
    with (
        smtp_server(handler) as port,
        override_settings(
            **smtp_settings(port), BASE_URL=SITE, DEFAULT_FROM_EMAIL=FROM
        ),
    ):
        yield handler


def parts(email) -> tuple[str, str]:
    return email.get_body(("plain",)).get_content(), email.get_body(
        ("html",)
    ).get_content()


def in_language(text: str, language: str) -> bool:
    return bool(CYRILLIC.search(text)) == (language == "ru")


def _words(text: str) -> str:
    return " ".join(URL.sub(" ", text).split())


def html_paragraphs(html: str) -> list[str]:
    """The words of each paragraph a reader sees, but for buttons and bare links
    (the text part writes the address instead)."""
    found = []
    for paragraph in BeautifulSoup(html, "html.parser").find_all("p"):
        words = _words(paragraph.get_text())
        if words and not paragraph.find("a"):
            found.append(words)
    return found


def site_email_problems(email, language: str) -> list[str]:
    """What is wrong with a site email (account, confirmation) on the wire."""
    text, html = parts(email)
    problems = []
    sender = email["From"].addresses[0]
    if (sender.display_name, sender.addr_spec) != (
        "Vestnik",
        "noreply@vestnik.example",
    ):
        problems.append(f"From: {email['From']}")
    if not str(email["Message-ID"]).endswith("@vestnik.example>"):
        problems.append(f"Message-ID: {email['Message-ID']}")
    if email["Date"] is None:
        problems.append("no Date")
    problems += [name for name in ("List-Unsubscribe", "List-Id") if email[name]]
    subject = str(email["Subject"])
    if not in_language(subject, language) or ENTITY.search(subject):
        problems.append(f"Subject: {email['Subject']}")
    if f'<html lang="{language}">' not in html or not in_language(text, language):
        problems.append("not in the reader's language")
    if ENTITY.search(text):
        problems.append("HTML entities in the text part")
    hrefs = [value for _tag, _attribute, value in links(html)]
    if not hrefs or any(not href.startswith(SITE + "/") for href in hrefs):
        problems.append(f"links: {hrefs}")
    if sorted(set(hrefs)) != sorted(set(URL.findall(text))):
        problems.append("the parts link to different places")
    flat = _words(text)
    site_name = html_paragraphs(html)[0]
    problems += [
        f"only in HTML: {words}"
        for words in html_paragraphs(html)[1:]
        if words != site_name and words not in flat
    ]
    return problems
