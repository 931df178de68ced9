"""What the configured email backend can carry, so a run never asks for more.

Anymail raises AnymailUnsupportedFeature for a feature an ESP lacks (several tags on
Postmark, Mailjet, SparkPost, Mailtrap and Postal; metadata on MailerSend; merge
data without a stored template on Postmark and Resend). A run that trips on one
would fail every recipient, so each feature is probed once, by asking the backend
to build (not send) a payload that uses it: the answer is Anymail's own, never a
guess. Batch sending also needs the ESP's merge-field syntax for inline content and
its recipient limit, which are documentation, not code: they are the table below.
"""

from dataclasses import dataclass
from functools import lru_cache

from anymail.exceptions import AnymailError
from anymail.message import AnymailMessage
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import get_connection
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class BatchSyntax:
    """How an ESP personalises one API call's recipients (Anymail "batch sending")."""

    max_recipients: int
    field: str  # format of a merge field in subject and body, e.g. "%recipient.{}%"
    # What the ESP's engine would read as its own syntax in the user's text: each
    # occurrence goes out as a merge field whose value is the text itself.
    active: str = ""
    esp_extra: dict | None = None


# From each ESP's documentation (limits) and Anymail's (merge fields in inline
# content, without a stored template). ESPs missing here send one call per email.
# Mailgun also fills its own %unsubscribe_url% family.
_MAILGUN_ACTIVE = r"%recipient\.|%[a-z_]*unsubscribe_url%"
# SendGrid's legacy substitutions replace a literal string wherever it occurs:
# a tag no one types (private-use delimiters, like esp._marker), and the delimiter
# itself escaped.
_SENDGRID_TAG = "\ue002{}\ue002"
BATCH_SYNTAX = {
    # Mailgun: 1,000 recipients per batch message, %recipient.KEY% variables.
    "mailgun": BatchSyntax(1000, "%recipient.{}%", _MAILGUN_ACTIVE),
    # SendGrid: 1,000 personalizations per mail/send; legacy substitutions.
    "sendgrid": BatchSyntax(
        1000, _SENDGRID_TAG, "\ue002", {"merge_field_format": _SENDGRID_TAG}
    ),
    # SparkPost: substitution_data; triple braces, our values are already escaped.
    "sparkpost": BatchSyntax(1000, "{{{{{{{}}}}}}}", r"\{\{"),
    # Brevo: up to 1,000 messageVersions per call, {{params.KEY}}, {% tags %}.
    "brevo": BatchSyntax(1000, "{{{{params.{}}}}}", r"\{[{%#]"),
    "sendinblue": BatchSyntax(1000, "{{{{params.{}}}}}", r"\{[{%#]"),
    # Mailjet Send API v3.1: 50 messages per call; Variables need TemplateLanguage,
    # which also reads {{var:x}} and {% tags %}.
    "mailjet": BatchSyntax(
        50, "[[var:{}]]", r"\[\[|\{[{%]", {"Globals": {"TemplateLanguage": True}}
    ),
    # Unisender Go: 500 recipients per email/send call, {{KEY}} substitutions.
    "unisender_go": BatchSyntax(500, "{{{{{}}}}}", r"\{\{"),
}


@dataclass(frozen=True)
class Capabilities:
    esp: str = ""  # Anymail's module name ("postmark"); empty for SMTP and Django's
    max_tags: int | None = None  # None: as many as wanted
    metadata: bool = True
    batch: BatchSyntax | None = None
    # Our Message-ID per recipient in a batch (Unisender Go refuses it).
    batch_message_id: bool = False
    # Takes emails already written as bytes (sending.mime), pipelined where it can.
    accepts_bytes: bool = False
    # The class of the backend's payloads, for sending.anymail_batch (batch only).
    payload: type | None = None

    def tags(self, tags: list[str]) -> list[str]:
        return tags if self.max_tags is None else tags[: self.max_tags]

    @property
    def max_recipients(self) -> int:
        return self.batch.max_recipients if self.batch else 1


def esp_name(backend_path: str) -> str:
    if not backend_path.startswith("anymail.backends."):
        return ""
    return backend_path.removeprefix("anymail.backends.").partition(".")[0]


def current() -> Capabilities:
    """The configured backend's capabilities (probed once per backend setting)."""
    return capabilities_of(settings.EMAIL_BACKEND)


@lru_cache(maxsize=8)
def capabilities_of(backend_path: str) -> Capabilities:
    esp = esp_name(backend_path)
    if not esp or esp == "test":
        # Not an ESP: tags and metadata are ignored, nothing is refused; the
        # backend says itself whether it takes bytes (sending.smtp.EmailBackend).
        backend_class = import_string(backend_path)
        return Capabilities(
            esp=esp, accepts_bytes=getattr(backend_class, "accepts_bytes", False)
        )
    try:
        backend = get_connection(backend_path, fail_silently=False)
    except (AnymailError, ImproperlyConfigured):
        # Not configured (no API key): sends fail anyway; ask for the least.
        return Capabilities(esp=esp, max_tags=1, metadata=False)
    max_tags = None
    if not _accepts(backend, tags=["a", "b"]):
        max_tags = 1 if _accepts(backend, tags=["a"]) else 0
    syntax = BATCH_SYNTAX.get(esp)
    batch = syntax if syntax and _accepts_batch(backend, syntax) else None
    message_id = bool(batch) and _accepts_batch(backend, syntax, "Message-ID")
    metadata = _accepts(backend, metadata={"a": "1"})
    payload = None
    if batch:  # for sending.anymail_batch
        payload = type(backend.build_message_payload(_probe_message(), {}))
    return Capabilities(esp, max_tags, metadata, batch, message_id, payload=payload)


def _probe_message(**attributes) -> AnymailMessage:
    message = AnymailMessage(
        subject="probe",
        body="probe",
        from_email="probe@example.com",
        to=["a@example.com", "b@example.com"],
    )
    message.attach_alternative("<p>probe</p>", "text/html")
    for name, value in attributes.items():
        setattr(message, name, value)
    return message


def _accepts(backend, **attributes) -> bool:
    try:
        backend.build_message_payload(_probe_message(**attributes), {})
    except AnymailError:  # AnymailUnsupportedFeature, or a refused combination
        return False
    return True


def _accepts_batch(backend, syntax: BatchSyntax, header="List-Unsubscribe") -> bool:
    per_recipient = {"a@example.com": {"k": "1"}, "b@example.com": {"k": "2"}}
    headers = {
        email: {header: f"<{n}@example.com>"} for n, email in enumerate(per_recipient)
    }
    return _accepts(
        backend,
        merge_data=per_recipient,
        merge_metadata=per_recipient,
        merge_headers=headers,
        esp_extra=syntax.esp_extra or {},
    )


@receiver(setting_changed)
def _forget_on_new_settings(setting: str, **kwargs) -> None:
    # Tests (and nothing else) change the backend or its keys at run time.
    if setting in ("EMAIL_BACKEND", "ANYMAIL"):
        capabilities_of.cache_clear()
