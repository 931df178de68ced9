"""A run's emails are the same bytes, byte for byte, whatever the MIME builder's
shortcuts (sending.mime.RunWire, rendering.PreparedMessage, the run's token makers).

The digest was taken from the builder before its CPU work was cut: a change to
what any recipient receives (headers, folding, encodings, the line-length
fallback, tokens) fails here, and test_mime.py says what a right email looks like.
"""

import hashlib
import random
import time

from mailing import tokens
from mailing.rendering import PreparedMessage
from mailing.sending.mime import RunWire, mailing_headers
from mailing.unsubscribe import TokenMaker

NOW = 1_764_600_000.0
MAX_LINE = 998
HTML = (
    "<html><head><style>\n.button { color: red }\n</style></head><body>\n"
    "<p>Привет, {{ full_name }} &amp; {braces} {{ email }}</p>\n"
    '<p><a href="{{ unsubscribe_url }}">x</a>' + "y" * 700 + "</p>\n"
    "\ue000VESTNIK_WEB_VERSION\ue000\n\ue000VESTNIK_TRACKING\ue000"
    "\n\ue000VESTNIK_LIST_UNSUBSCRIBE\ue000\n"
    '{{ city|default:"Москва" }}\n.dot line\n</body></html>'
)
# The unsubscribe link's line of the HTML, without the link.
_LINK_LINE = '<p><a href="">x</a>' + "y" * 700 + "</p>"
TEXT = "Dear {{ full_name }},\n{{ email }}\r\n{{ unsubscribe_url }}\n" + "z" * 900
NAMES = [
    "Reader 5",
    "",
    'O"Brien, Jr.',
    "Анна Петровна",
    "Ann\r\nBcc: x",
    "x" * 150,  # the URL line passes 998 bytes: Django's generator instead
    "Ж" * 40,
]


def emails() -> list[bytes | None]:
    prepared = PreparedMessage(
        "News for {{ full_name }} {{ city }}",
        TEXT,
        HTML,
        web_link=('<a href="', '">web</a>', "Web: "),
        list_link=('<a href="', '">list</a>', "List: "),
    )
    wire = RunWire(prepared, "Вестник <noreply@example.com>", "reply@example.com")
    unsubscribe, web = TokenMaker(), TokenMaker("web.salt")
    built = []
    for n, name in enumerate(NAMES):
        attempt = 1000 + n
        token = tokens.attempt_token(attempt)
        url = "https://vestnik.example/u/" + unsubscribe(attempt) + "/"
        headers = mailing_headers(
            "<mailing-3.example.com>",
            f"<{url}>, <mailto:u@example.com?subject={n}>",
            tokens.token_message_id(token, "example.com"),
        )
        built.append(
            wire.build(
                name,
                f"r{n}@example.org",
                url + "/" * (n * 40),
                headers,
                "https://vestnik.example/w/" + web([7, attempt]) + "/",
                token if n % 2 else "",
                {"city": "Тверь & <Ко>"} if n % 3 else None,
                "https://vestnik.example/l/" if n % 2 else "",
            )
        )
    # The link's line at exactly the limit, and one byte over it.
    for over in (0, 1):
        url = "https://vestnik.example/u/"
        url += "e" * (MAX_LINE - len(_LINK_LINE) - len(url) + over)
        built.append(wire.build("Edge", "edge@example.org", url, headers))
    return built


def test_a_runs_emails_are_the_same_bytes(monkeypatch, settings):
    settings.SECRET_KEY = "wire-bytes-test-key"
    settings.EMAIL_USE_LOCALTIME = False
    monkeypatch.setattr(time, "time", lambda: NOW)
    monkeypatch.setattr(random, "randrange", lambda start, stop: start + 12345)

    built = emails()

    # Over 998 bytes a line: the subject (5), the link's line (6, the last).
    assert [data is None for data in built] == [False] * 5 + [True, True, False, True]
    digest = hashlib.sha256(b"\0".join(data or b"-" for data in built)).hexdigest()
    assert digest == "c68645c40916b4aedd67a612e21fbf44850df1109d6168d27debf7b2e4342b40"
