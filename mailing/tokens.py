"""Attempt tokens: what names one attempt in its Message-ID and ESP metadata.

A token is the attempt's id with an HMAC of it under a key derived from
SECRET_KEY (`1234.9f0c…`). Webhook events are matched by the token, never by the
bare id: the id is sequential, so an event naming one could be forged by anyone
who holds the webhook secret (a Postmark bounce suppressing another owner's
client). The token is deterministic, so an email re-sent after a crash carries
the same Message-ID and receivers can tell it is the same email.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from django.conf import settings

from .keyed_hash import KeyedSha256

SALT = b"mailing.tokens.attempt"
MAC_CHARS = 24  # 96 bits of HMAC-SHA256, hex: safe in a Message-ID's local part
TOKEN = re.compile(rf"(\d{{1,19}})\.([0-9a-f]{{{MAC_CHARS}}})")
MESSAGE_ID = re.compile(rf"attempt\.{TOKEN.pattern}@")


@lru_cache(maxsize=4)
def _key(secret: str) -> KeyedSha256:
    return KeyedSha256(hashlib.sha256(SALT + secret.encode()).digest())


def _mac(attempt_id: int) -> str:
    digest = _key(settings.SECRET_KEY).digest(str(attempt_id).encode())
    return digest.hex()[:MAC_CHARS]


def attempt_token(attempt_id: int) -> str:
    return f"{attempt_id}.{_mac(attempt_id)}"


def message_id(attempt_id: int, domain: str) -> str:
    return token_message_id(attempt_token(attempt_id), domain)


def token_message_id(token: str, domain: str) -> str:
    """message_id for an attempt_token already made."""
    return f"<attempt.{token}@{domain}>"


def esp_metadata(attempt_id: int, run_id: int) -> dict:
    """Anymail metadata for the email: ESPs echo it in their tracking events."""
    return {"attempt": attempt_token(attempt_id), "run_id": run_id}


def read_attempt_token(token) -> int | None:
    """The attempt id a token names, or None for anything not made here."""
    match = TOKEN.fullmatch(token) if isinstance(token, str) else None
    return _checked(match)


def read_message_id(value) -> int | None:
    """The attempt id in one of our Message-IDs (with or without <>)."""
    match = MESSAGE_ID.search(value) if isinstance(value, str) else None
    return _checked(match)


def _checked(match: re.Match | None) -> int | None:
    if match is None:
        return None
    attempt_id = int(match.group(1))
    if not hmac.compare_digest(_mac(attempt_id), match.group(2)):
        return None
    return attempt_id
