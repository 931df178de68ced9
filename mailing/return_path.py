"""The envelope sender (Return-Path) of a mailing's email: VERP with a signed token.

With EMAIL_BOUNCE_DOMAIN set, each email sent over SMTP goes out with its own
envelope sender, `bounces+<attempt token>@<bounce domain>`: the delivery status
notification a remote server sends back is addressed there, so it names its
attempt even when it quotes nothing of the original email. The token is the
attempt token of Message-IDs and ESP metadata (mailing.tokens): signed, so a
notification made up by anyone cannot bounce another owner's client.

Unset, the envelope sender stays the site's address. Over an ESP's API the ESP
keeps its own return path (it reads the bounces itself and reports them by
webhook), so nothing here applies there.
"""

from __future__ import annotations

import re

from django.conf import settings

from .tokens import MAC_CHARS, attempt_token, read_attempt_token

# The local part's token, whatever the configured prefix: "<prefix>+<id>.<mac>".
_TAGGED = re.compile(rf"\+(\d{{1,19}}\.[0-9a-fA-F]{{{MAC_CHARS}}})@")


def enabled() -> bool:
    return bool(settings.EMAIL_BOUNCE_DOMAIN)


def envelope_sender(attempt_id: int, default: str) -> str:
    """The MAIL FROM of this attempt's email; `default` when VERP is off."""
    if not enabled():
        return default
    local = settings.EMAIL_BOUNCE_LOCAL_PART
    return f"{local}+{attempt_token(attempt_id)}@{settings.EMAIL_BOUNCE_DOMAIN}"


def is_bounce_address(address: str) -> bool:
    """Whether mail to this address is meant for the bounce handler."""
    if not enabled():
        return False
    local, _, domain = address.strip().lower().rpartition("@")
    prefix = settings.EMAIL_BOUNCE_LOCAL_PART.lower() + "+"
    return domain == settings.EMAIL_BOUNCE_DOMAIN.lower() and local.startswith(prefix)


def token_in(address: str) -> str:
    """The token a return path carries ("" when it carries none)."""
    match = _TAGGED.search(address)
    return match.group(1).lower() if match else ""


def attempt_of(address: str) -> int | None:
    """The attempt a return path names; None when it names none or is forged."""
    return read_attempt_token(token_in(address))
