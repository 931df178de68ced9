"""Recipient addresses and names in a form every transport can send.

Normalised at input (the client form, Client.clean, the CSV import): an IDN
domain becomes its IDNA (punycode) form, which every SMTP server and ESP accepts,
control characters leave names, the RFC 5321 length limits hold, and a domain
literal (user@[192.0.2.1]) is refused as the account forms refuse it. Rows that
reached the database some other way (shell, a data migration) are screened again
right before sending: what can be repaired the same way is, and a row that still
cannot be sent fails alone with its reason instead of taking its group down.
"""

import re
import unicodedata

import idna
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from accounts.models import refuse_domain_literal

MAX_LOCAL, MAX_DOMAIN, MAX_ADDRESS = 64, 253, 254  # RFC 5321, 4.5.3.1
MAX_NAME = 255  # Client.full_name
# The plain address (dot-atom local part, ASCII domain with a letters-only top
# level): a strict subset of what Django's EmailValidator accepts, matched by one
# regular expression. Imports check a million addresses; the validator's
# Unicode-aware patterns cost several times more, so it sees only the rest.
PLAIN_ATOM = r"[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+"
PLAIN_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
PLAIN_ADDRESS = re.compile(
    rf"{PLAIN_ATOM}(?:\.{PLAIN_ATOM})*@(?:{PLAIN_LABEL}\.)+[a-z]{{2,63}}\Z"
)


class AddressError(ValueError):
    """An address or name that cannot be sent; the message says why, for people."""


def clean_name(name: str) -> str:
    """The name without control characters (CR, LF, \\x0b, \\x0c, NUL...).

    Line breaks and tabs become spaces, the rest go; runs of spaces collapse. Such
    characters make Django refuse the header or Python's email package fail.
    """
    if name.isprintable() and "  " not in name and name == name.strip():
        return name  # the usual name, kept as it is without a look at each char
    kept = (
        " " if char.isspace() else char
        for char in name
        if char.isspace() or unicodedata.category(char) != "Cc"
    )
    return " ".join("".join(kept).split())


def normalise_name(name: str) -> str:
    name = clean_name(name)
    if len(name) > MAX_NAME:
        raise AddressError(
            _("The name is too long (at most %(max)d characters).") % {"max": MAX_NAME}
        )
    return name


def normalise_email(email: str) -> str:
    """The address as it is sent: IDNA domain, lower-case domain, checked lengths."""
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        raise AddressError(_("Invalid email: %(email)s") % {"email": email[:80]})
    if not local.isascii():
        raise AddressError(
            _("The part before @ must be Latin letters, digits and punctuation.")
        )
    domain = _idna_domain(domain)
    if len(local) > MAX_LOCAL:
        raise AddressError(
            _("The part before @ is too long (at most %(max)d characters).")
            % {"max": MAX_LOCAL}
        )
    if len(domain) > MAX_DOMAIN:
        raise AddressError(
            _("The domain is too long (at most %(max)d characters).")
            % {"max": MAX_DOMAIN}
        )
    address = f"{local}@{domain}"
    try:
        refuse_domain_literal(address)
    except ValidationError as error:
        raise AddressError(error.messages[0]) from None
    if len(address) > MAX_ADDRESS:
        raise AddressError(
            _("The email is too long (at most %(max)d characters).")
            % {"max": MAX_ADDRESS}
        )
    if PLAIN_ADDRESS.match(address):
        return address
    try:
        validate_email(address)
    except ValidationError:
        raise AddressError(
            _("Invalid email: %(email)s") % {"email": email[:80]}
        ) from None
    return address


def _idna_domain(domain: str) -> str:
    domain = domain.rstrip(".")
    if domain.isascii():
        return domain.lower()
    try:
        # UTS 46 maps case and compatibility forms first, as browsers do.
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise AddressError(
            _("The domain %(domain)s is not a valid internationalised domain name.")
            % {"domain": domain[:80]}
        ) from None


def screen(rows: list, email_at: int, name_at: int) -> tuple[list, list]:
    """(rows to send, (row, reason) refused) for claimed outbox rows.

    A row's address and name are normalised as at input; a row whose address
    still cannot be sent is refused with the reason.
    """
    sendable, refused = [], []
    for row in rows:
        try:
            email = normalise_email(row[email_at])
            name = clean_name(row[name_at] or "")
        except AddressError as error:
            refused.append((row, str(error)))
            continue
        if email != row[email_at] or name != row[name_at]:
            row = list(row)
            row[email_at], row[name_at] = email, name
            row = tuple(row)
        sendable.append(row)
    return sendable, refused
