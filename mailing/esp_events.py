"""Anymail's normalised tracking events -> Vestnik events.

Anymail reports every bounce as `bounced`; whether it was soft (a full mailbox,
a greylisting) or hard is in each ESP's own fields, read here per ESP. Getting
it wrong suppresses an address for good after one full mailbox.
"""

from __future__ import annotations

from collections.abc import Callable

from . import tokens
from .events import Happening
from .models import Attempt, Event

Kind = Event.Kind
# Anymail's event_type -> our kind ("bounced" is split below).
KINDS = {
    "delivered": Kind.DELIVERED,
    "complained": Kind.COMPLAINED,
    "opened": Kind.OPENED,
    "clicked": Kind.CLICKED,
    "unsubscribed": Kind.UNSUBSCRIBED,
    "rejected": Kind.REJECTED,  # also SendGrid's "dropped"
    "failed": Kind.REJECTED,
    "deferred": Kind.DEFERRED,
}
# SparkPost bounce classes that are temporary (support.sparkpost.com, bounce classes).
SPARKPOST_SOFT_CLASSES = {"20", "21", "22", "23", "24", "70"}
# Brevo reports opens through Apple's proxy as their own event types.
PROXY_OPENS = {"unique_proxy_open", "proxy_open"}
POSTMARK_SOFT_TYPES = {"SoftBounce", "Transient", "DnsError"}


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _sparkpost(raw: dict) -> bool | None:
    msys = _dict(raw.get("msys"))
    event = next((_dict(v) for v in msys.values() if isinstance(v, dict)), {})
    bounce_class = event.get("bounce_class")
    return None if bounce_class is None else str(bounce_class) in SPARKPOST_SOFT_CLASSES


def _mailjet(raw: dict) -> bool | None:
    hard = raw.get("hard_bounce")
    return None if hard is None else hard is False


def _amazon_ses(raw: dict) -> bool | None:
    bounce_type = _dict(raw.get("bounce")).get("bounceType")
    return None if bounce_type is None else bounce_type != "Permanent"


def _resend(raw: dict) -> bool | None:
    bounce_type = _dict(_dict(raw.get("data")).get("bounce")).get("type")
    return None if bounce_type is None else bounce_type != "Permanent"


def _mailersend(raw: dict) -> bool | None:
    kind = _dict(raw.get("data")).get("type")
    return None if kind is None else kind == "soft_bounced"


# ESP name -> is this `bounced` event soft? (None: the payload does not say)
SOFT_BOUNCE_RULES: dict[str, Callable[[dict], bool | None]] = {
    "postmark": lambda raw: raw.get("Type") in POSTMARK_SOFT_TYPES,
    "brevo": lambda raw: raw.get("event") == "soft_bounce",
    "sendinblue": lambda raw: raw.get("event") == "soft_bounce",
    "mandrill": lambda raw: raw.get("event") == "soft_bounce",
    "mailjet": _mailjet,
    "sparkpost": _sparkpost,
    "amazon_ses": _amazon_ses,
    "resend": _resend,
    "mailersend": _mailersend,
    # SendGrid's bounce `type` is "bounce" (permanent) or "blocked" (temporary).
    "sendgrid": lambda raw: raw.get("type") == "blocked",
}


def esp_key(esp_name: str) -> str:
    """Anymail's display name ("Amazon SES") as our key ("amazon_ses")."""
    return str(esp_name).strip().lower().replace(" ", "_")


def is_soft_bounce(event, esp_name: str) -> bool:
    rule = SOFT_BOUNCE_RULES.get(esp_key(esp_name))
    soft = rule(_dict(event.esp_event)) if rule else None
    if soft is None:
        # Other ESPs (Mailgun, Unisender Go, Mailtrap, Postal) report temporary
        # failures as `deferred`; an SMTP 4xx reply is temporary everywhere.
        soft = _text(event.mta_response).removeprefix("smtp;").strip().startswith("4")
    return soft


def kind_of(event, esp_name: str) -> str | None:
    if event.event_type == "bounced":
        return Kind.SOFT_BOUNCE if is_soft_bounce(event, esp_name) else Kind.HARD_BOUNCE
    if event.event_type == "failed" and _refused_for_good(event):
        return Kind.HARD_BOUNCE
    return KINDS.get(event.event_type)


def _refused_for_good(event) -> bool:
    """A `failed` send the recipient's server answered with a 5xx: Postal's
    HardFail ("550 No such user"), which Anymail reports as `failed`, not
    `bounced`; without this the address was never suppressed and mail to it
    went on failing. A failure with no such reply (the ESP's own) stays rejected."""
    reply = _text(event.mta_response).removeprefix("smtp;").strip()
    return reply[:1] == "5"


def attempt_of(event) -> int | None:
    """The attempt an event names by its token: in our metadata, in our
    Message-ID, or by the ESP's message id that the send recorded. Never by a bare
    attempt id, which anyone can guess."""
    return attempts_of([event])[0]


def attempts_of(events: list) -> list[int | None]:
    """attempt_of for each event, with one query for those found by the ESP's id."""
    found = [_by_token(event) for event in events]
    wanted = {
        _esp_id(event)
        for event, attempt_id in zip(events, found, strict=True)
        if attempt_id is None and _esp_id(event)
    }
    if not wanted:
        return found
    # Never the empty id: the index holds only rows with one (attempt_esp_id).
    rows = (
        Attempt.objects.filter(esp_message_id__in=wanted)
        .exclude(esp_message_id="")
        .order_by("pk")
    )
    by_esp_id: dict[str, int] = {}
    for esp_id, pk in rows.values_list("esp_message_id", "pk"):
        by_esp_id.setdefault(esp_id, pk)
    return [
        attempt_id if attempt_id is not None else by_esp_id.get(_esp_id(event))
        for event, attempt_id in zip(events, found, strict=True)
    ]


def _by_token(event) -> int | None:
    attempt_id = tokens.read_attempt_token(_dict(event.metadata).get("attempt"))
    if attempt_id is None:
        attempt_id = tokens.read_message_id(event.message_id)
    return attempt_id


def _esp_id(event) -> str:
    # A NUL in the lookup's parameter is PostgreSQL's error; no id of ours has one.
    return _text(event.message_id)[:255].replace("\x00", "")


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def happening_from(event, esp_name: str) -> Happening | None:
    kind = kind_of(event, esp_name)
    if kind is None:
        return None
    return Happening(
        kind=kind,
        source=esp_key(esp_name),
        at=event.timestamp,
        esp_event_id=_text(event.event_id),
        description=_text(event.mta_response) or _text(event.description),
        reject_reason=_text(event.reject_reason),
        url=_text(event.click_url),
        user_agent=_text(event.user_agent),
        esp_says_proxy=_dict(event.esp_event).get("event") in PROXY_OPENS,
    )
