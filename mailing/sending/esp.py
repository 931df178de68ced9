"""ESP batch sending: one API call carries up to the ESP's limit of recipients.

The run's email is rendered once with the ESP's merge fields where each recipient
differs (name, address, unsubscribe and web version links, tracking token); each
recipient's values go in `merge_data`, the attempt's token in `merge_metadata` and
its List-Unsubscribe in `merge_headers` (Anymail's batch sending). The ESP answers
per recipient (`anymail_status.recipients`), so a refused address fails its own row
alone. Used only where capabilities.py found batch sending and the syntax table.
"""

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache

from anymail.message import AnymailMessage
from django.conf import settings
from django.utils.module_loading import import_string

from .. import tokens
from ..rendering import single_line
from . import anymail_batch, policy
from .capabilities import BatchSyntax, Capabilities
from .outcome import Outcome

# Each personalised value: plain for subject and text, escaped for HTML.
FIELDS = ("name", "email", "unsubscribe", "web", "list")
KEYS = (*FIELDS, *(f"{key}_html" for key in FIELDS), "tracking")
# Links made of a fixed prefix and suffix around a URL-safe token (RunJob.links).
LINKS = {
    "unsubscribe": ("url_prefix", "url_suffix"),
    "web": ("web_prefix", "web_suffix"),
    "list": ("list_prefix", "list_suffix"),
}


def _marker(key: str) -> str:
    return f"\ue001{key}\ue001"  # private-use: no escaping or folding touches it


@dataclass(frozen=True)
class BatchTemplate:
    subject: str
    text: str
    html: str
    # The merge fields the email uses: only these travel, once per recipient.
    keys: tuple[str, ...] = KEYS
    # Merge fields standing for the user's own text that the ESP would execute.
    literals: dict[str, str] = field(default_factory=dict)


class _Escaper:
    """The user's text as the ESP's engine must read it: literally.

    In batch mode the ESP runs its template engine over the whole email, so a
    `{{ ... }}` or `%recipient.x%` the user wrote would be executed (or emptied).
    Each such sequence becomes a merge field whose value, the same for every
    recipient, is the sequence itself: engines do not read their output again.
    """

    def __init__(self, syntax: BatchSyntax):
        self.syntax = syntax
        self.literals: dict[str, str] = {}  # merge key -> the text it stands for
        self._keys: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        if not self.syntax.active:
            return text
        return re.sub(self.syntax.active, self._field, text)

    def _field(self, match: re.Match) -> str:
        literal = match.group(0)
        key = self._keys.get(literal)
        if key is None:
            key = self._keys[literal] = f"literal{len(self._keys)}"
            self.literals[key] = literal
        return self.syntax.field.format(key)


def batch_template(
    prepared,
    syntax: BatchSyntax,
    tracking: bool,
    per_list: bool = False,
    html_safe: frozenset[str] = frozenset(),
) -> BatchTemplate:
    """The run's email with the ESP's merge fields in place of each recipient's own
    values (rendering.PreparedMessage, filled once with markers), and the user's
    text escaped from the ESP's engine. `per_list`: the footer's "leave this list
    only" link is there (a mailing to lists). `html_safe`: fields whose values
    HTML escaping never changes; the HTML uses their plain field, so each
    recipient's link travels once, not twice (a fifth of a batch's bytes)."""
    escape = _Escaper(syntax)
    subject = single_line(
        prepared.subject_for(_marker("name"), _marker("email"), _marker("unsubscribe"))
    )
    text = prepared.text_for(
        _marker("name"),
        _marker("email"),
        _marker("unsubscribe"),
        _marker("web"),
        list_url=_marker("list") if per_list else "",
    )
    body = prepared.html_for(
        _marker("name_html"),
        _marker("email_html"),
        _marker("unsubscribe_html"),
        _marker("web_html"),
        _marker("tracking") if tracking else "",
        list_url=_marker("list_html") if per_list else "",
    )
    subject, text, body = escape(subject), escape(text), escape(body)
    for key in html_safe:
        body = body.replace(_marker(f"{key}_html"), _marker(key))
    used = []
    for key in KEYS:
        merge_field = syntax.field.format(key)
        subject = subject.replace(_marker(key), merge_field)
        text = text.replace(_marker(key), merge_field)
        body = body.replace(_marker(key), merge_field)
        if merge_field in subject or merge_field in text or merge_field in body:
            used.append(key)
    return BatchTemplate(subject, text, body, tuple(used), escape.literals)


def html_safe_links(job) -> frozenset[str]:
    """The link fields of the run whose every value reads the same HTML-escaped:
    the token between prefix and suffix is URL-safe, so the prefix and suffix
    decide it once for the run."""
    safe = set()
    for key, (prefix, suffix) in LINKS.items():
        fixed = getattr(job, prefix) + getattr(job, suffix)
        if html.escape(fixed) == fixed:
            safe.add(key)
    return frozenset(safe)


@lru_cache(maxsize=64)
def _value_plan(keys: tuple[str, ...]) -> tuple[tuple[str, str, bool], ...]:
    """(merge key, the plain value it shows, HTML-escaped): read once per batch
    template, not once per key of every recipient."""
    return tuple(
        (key, key.removesuffix("_html"), key.endswith("_html")) for key in keys
    )


def merge_values(full_name: str, email: str, links, keys=KEYS) -> dict[str, str]:
    """A recipient's value for each of `keys` (BatchTemplate.keys)."""
    plain = {
        "name": full_name,
        "email": email,
        "unsubscribe": links.unsubscribe_url,
        "web": links.web_url,
        "list": links.list_url,
        "tracking": links.tracking,
    }
    escape = html.escape
    return {
        key: escape(plain[source]) if escaped else plain[source]
        for key, source, escaped in _value_plan(tuple(keys))
    }


class EspBatches:
    """The transport for an ESP with batch sending: SenderPool calls it per group."""

    def __init__(self, job, capabilities: Capabilities):
        self.job = job
        self.capabilities = capabilities
        self.template = batch_template(
            job.prepared,
            capabilities.batch,
            bool(job.tracking),
            bool(job.list_ids),
            html_safe_links(job),
        )

    def connect(self):
        """A connection of the configured backend, building its payloads from
        our validated addresses and values as they are (sending.anymail_batch).

        Opened here: Anymail's send_messages() on a backend never opened makes a
        requests Session for the one call and closes it, so each batch paid a
        new TCP (and, to a real ESP, TLS) connection. SenderPool closes it."""
        backend_class = anymail_batch.batch_backend_class(
            import_string(settings.EMAIL_BACKEND), self.capabilities.payload
        )
        backend = backend_class(fail_silently=False)
        backend.open()
        return backend

    def __call__(self, backend, rows, owner_id, limiter, build=None) -> list[Outcome]:
        outcomes = []
        for batch in self._batches(rows):
            _take(limiter, owner_id, len(batch))
            outcomes.extend(self.send_batch(backend, batch))
        return outcomes

    def _batches(self, rows):
        """Up to the ESP's limit each; an address twice goes in another batch."""
        batch, seen = [], set()
        for row in rows:
            email = row[3].lower()
            if len(batch) == self.capabilities.max_recipients or email in seen:
                yield batch
                batch, seen = [], set()
            batch.append(row)
            seen.add(email)
        if batch:
            yield batch

    def send_batch(self, backend, rows) -> list[Outcome]:
        message = self.message(rows)
        try:
            backend.send_messages([message])
        except Exception as exc:  # noqa: BLE001 - policy decides, per row
            # No per-recipient answer: the call itself failed, every row alike.
            status = getattr(message, "anymail_status", None)
            if not getattr(status, "recipients", None):
                return policy.fail_rows(rows, exc)
        status_of = _StatusOf(message.anymail_status.recipients)
        return [
            policy.recipient_outcome(row[0], row[1], status_of(row[3])) for row in rows
        ]

    def message(self, rows) -> AnymailMessage:
        job, template = self.job, self.template
        message = AnymailMessage(
            subject=template.subject,
            body=template.text,
            from_email=job.from_email,
            to=[anymail_batch.recipient(row[4], row[3]) for row in rows],
            reply_to=[job.reply_to] if job.reply_to else None,
        )
        message.attach_alternative(template.html, "text/html")
        message.extra_headers.update(job.common_headers())
        message.merge_data, message.merge_headers = {}, {}
        message.merge_metadata = {}
        keys, literals = template.keys, template.literals
        for attempt_id, _tries, client_id, email, full_name in rows:
            token = tokens.attempt_token(attempt_id)  # one HMAC for its three uses
            links = job.links(attempt_id, client_id, token)
            values = merge_values(full_name, email, links, keys)
            message.merge_data[email] = {**values, **literals} if literals else values
            headers = message.merge_headers[email] = {"List-Unsubscribe": links.header}
            if self.capabilities.batch_message_id:
                # Our own id, so replies and events find the attempt.
                headers["Message-ID"] = tokens.token_message_id(token, job.domain)
            if self.capabilities.metadata:
                # The run's id is the message's metadata, shared: not repeated.
                message.merge_metadata[email] = {"attempt": token}
        if self.capabilities.metadata:
            message.metadata = {"run_id": job.run_id}
        message.tags = self.capabilities.tags(job.tags)
        message.esp_extra = self.capabilities.batch.esp_extra or {}
        return message


class _StatusOf:
    """Each recipient's status in the ESP's answer. Some ESPs report addresses in
    their own case: those are looked up folded, the folding done once a batch (per
    missed row it made a 1,000-row batch quadratic)."""

    def __init__(self, statuses: dict):
        self.statuses = statuses
        self.folded = None

    def __call__(self, email: str):
        status = self.statuses.get(email)
        if status is None:
            if self.folded is None:
                self.folded = {a.lower(): s for a, s in self.statuses.items()}
            status = self.folded.get(email.lower())
        return status


def _take(limiter, owner_id: int, count: int) -> None:
    step = limiter.largest_grant()
    for start in range(0, count, step):
        limiter.take(owner_id, min(step, count - start))
