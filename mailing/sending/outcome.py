"""What goes to the transport (Outbound) and what comes back (Outcome), per row."""

from dataclasses import dataclass

from anymail.message import AnymailMessage


@dataclass(slots=True)
class Outbound:
    """One email to send: an EmailMessage, or bytes for Vestnik's SMTP backend."""

    attempt_id: int
    tries: int
    email: str
    message: AnymailMessage | None
    message_id: str
    data: bytes | None = None
    envelope_from: str = ""


@dataclass(slots=True)
class Outcome:
    attempt_id: int
    tries: int
    ok: bool
    transient: bool = False
    response: str = ""
    esp_message_id: str = ""
    # The recipient's server refused the address for good (mailing.bounces).
    hard_bounce: bool = False

    @classmethod
    def failure(cls, item: Outbound, transient: bool, response: str) -> "Outcome":
        return cls(item.attempt_id, item.tries, False, transient, response)
