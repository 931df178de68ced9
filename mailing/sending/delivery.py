"""Handing rendered emails to the mail server and reading its answer.

Nothing here touches the database: sender threads only talk to the mail server, so
any number of them can share one run while the consumer's own thread claims and
records (which keeps SQLite, with its single writer, working too).
"""

import smtplib
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core.mail import get_connection

from ..ratelimit import RateLimiter
from .mime import plain_address
from .outcome import Outbound, Outcome
from .policy import describe_failure, fail_rows, refused_for_good, sent, unexpected

__all__ = ["Outbound", "Outcome", "describe_failure"]


# What a mail server or an ESP may answer with; anything else is our own failure
# (sending.policy.unexpected): the row fails as transient, the run goes on.
SEND_ERRORS = (
    OSError,
    smtplib.SMTPException,
    AnymailAPIError,
    AnymailRecipientsRefused,
)


def _connection_broken(exc: BaseException) -> bool:
    """Whether the connection must go: not after a refused recipient or message.

    smtplib's sendmail() has already sent RSET after such a refusal, so the
    connection is clean; dropping it (every SMTPException is an OSError) cost a
    new TLS handshake and AUTH per rejected recipient. 421 means the server closes.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _text in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    return isinstance(exc, OSError | smtplib.SMTPServerDisconnected | AnymailAPIError)


def drop_connection(backend) -> None:
    """Forget a broken connection without a polite QUIT to a server that hangs."""
    smtp = getattr(backend, "connection", None)
    if isinstance(smtp, smtplib.SMTP):
        try:
            smtp.close()
        finally:
            backend.connection = None
        return
    try:
        backend.close()
    except (OSError, smtplib.SMTPException, AnymailAPIError):
        pass


def send_one(backend, item: Outbound) -> Outcome:
    try:
        if getattr(backend, "connection", False) is None:
            # Reopen a dropped connection here: Django's send_messages() would open
            # one for this email only and close it, losing the server's reply and
            # costing a connection per email for the rest of the chunk.
            backend.open()
        if item.data is not None:
            backend.send_data(item.envelope_from, [item.email], item.data)
        else:
            backend.send_messages([item.message])
    except (
        OSError,
        smtplib.SMTPException,
        AnymailAPIError,
        AnymailRecipientsRefused,
    ) as exc:
        if _connection_broken(exc):
            drop_connection(backend)
        return failed(item, exc)
    except Exception as exc:  # noqa: BLE001 - never leave a row `sending`
        return Outcome.failure(item, *unexpected(exc))
    status = getattr(item.message, "anymail_status", None)
    esp_id = getattr(status, "message_id", None)
    esp_id = item.message_id if esp_id is None else esp_id
    # An ESP's status set, or the SMTP server's reply (Vestnik's SMTP backend).
    esp_status = getattr(status, "status", None)
    reply = getattr(backend, "last_reply", "")
    response = ", ".join(sorted(esp_status)) if esp_status else reply
    return sent(item.attempt_id, item.tries, response, str(esp_id))


def deliver(
    backend,
    rows: list,
    owner_id: int,
    limiter: RateLimiter,
    build: Callable[[Any], Outbound] = lambda item: item,
) -> list[Outcome]:
    """Build and send on one connection; one failure never stops the others.

    Each email is built here, in the sending thread, right before its piece goes
    out (send_piece): building in another thread would make this one wait for the
    GIL (up to the 5 ms switch interval) after every reply from the server. A
    connection that
    cannot be opened fails the whole chunk at once (transient): a server that is
    down or hangs costs one connect timeout, not one per email.
    """
    try:
        backend.open()  # a no-op while the connection stays open
    except (OSError, smtplib.SMTPException, AnymailAPIError) as exc:
        drop_connection(backend)
        transient, response = describe_failure(exc, "")
        return [
            Outcome(item.attempt_id, item.tries, False, transient, response)
            for item in map(build, rows)
        ]
    outcomes = []
    step = limiter.largest_grant()
    for start in range(0, len(rows), step):
        piece = rows[start : start + step]
        limiter.take(owner_id, len(piece))
        outcomes.extend(send_piece(backend, piece, build))
    return outcomes


def send_piece(backend, rows: list, build=lambda item: item) -> list[Outcome]:
    """Emails written as bytes go out pipelined where the server allows it; the
    rest one by one."""
    items, outcomes = build_each(rows, build)
    pipelined = [item for item in items if pipelinable(item)]
    left = pipelined
    if pipelined and hasattr(backend, "send_prepared"):
        sent, left = _send_pipelined(backend, pipelined)
        outcomes.extend(sent)
    rest = [item for item in items if not pipelinable(item)] + left
    outcomes.extend(send_one(backend, item) for item in rest)
    return outcomes


def build_each(rows: list, build: Callable[[Any], Outbound]) -> tuple[list, list]:
    """(Outbounds, failures): a row whose build fails (our bug) fails alone,
    transient, instead of taking the rest of its group with it."""
    items, failures = [], []
    for row in rows:
        try:
            items.append(build(row))
        except Exception as exc:  # noqa: BLE001 - one row, not the group
            failures.append(Outcome(row[0], row[1], False, *unexpected(exc)))
    return items, failures


def pipelinable(item: Outbound) -> bool:
    """Bytes between plain addr-specs (mime.plain_address): what pipelining sends."""
    return (
        item.data is not None
        and plain_address(item.envelope_from)
        and plain_address(item.email)
    )


def _send_pipelined(backend, items: list[Outbound]) -> tuple[list[Outcome], list]:
    """(outcomes, items left for send_one: the server does not pipeline)."""
    outcomes = []
    while items:
        try:
            if backend.connection is None:
                backend.open()
            results = backend.send_prepared(
                [(item.envelope_from, item.email, item.data) for item in items]
            )
        except SEND_ERRORS as exc:
            # No connection: the rest fails at once, as when deliver() opens it.
            drop_connection(backend)
            transient, response = describe_failure(exc, "")
            failed = Outcome.failure
            return outcomes + [failed(item, transient, response) for item in items], []
        if results is None:
            return outcomes, items
        outcomes.extend(map(_outcome, items, results))
        items = items[len(results) :]
        if getattr(backend.connection, "sock", None) is None:
            drop_connection(backend)  # closed on a broken connection or a 421
    return outcomes, []


def failed(item: Outbound, exc: BaseException) -> Outcome:
    """A recipient's failure, marked when the server refused the address for good
    (an SMTP hard bounce, recorded as an event by mailing.bounces)."""
    outcome = Outcome.failure(item, *describe_failure(exc, item.email))
    outcome.hard_bounce = refused_for_good(exc, item.email)
    return outcome


def _outcome(item: Outbound, result) -> Outcome:
    if isinstance(result, Exception):
        return failed(item, result)
    return sent(item.attempt_id, item.tries, result, item.message_id)


class SenderPool:
    """`size` threads, each keeping its own open connection to the mail server."""

    def __init__(self, size: int, owner_id: int, limiter: RateLimiter, transport=None):
        self.size = max(1, size)
        # deliver(), or sending.esp.deliver_batches for an ESP with batch sending.
        self.transport = transport or deliver
        self.owner_id = owner_id
        self.limiter = limiter
        self._local = threading.local()
        self._backends = []
        self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="sender")

    def _backend(self):
        backend = getattr(self._local, "backend", None)
        if backend is None:
            # An ESP's batch transport makes its own (sending.esp.EspBatches).
            connect = getattr(self.transport, "connect", None)
            backend = connect() if connect else get_connection(fail_silently=False)
            self._local.backend = backend
            self._backends.append(backend)
        return backend

    def _deliver(self, rows: list, build) -> list[Outcome]:
        try:
            backend = self._backend()
            return self.transport(backend, rows, self.owner_id, self.limiter, build)
        except Exception as exc:  # noqa: BLE001 - the group's rows fail, not the run
            return fail_rows(rows, exc)

    def send(self, rows: list, build=lambda item: item) -> Future:
        """Send the rows on one connection; `build` makes each Outbound."""
        return self._executor.submit(self._deliver, rows, build)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for backend in self._backends:
            try:
                backend.close()  # a polite QUIT on connections still healthy
            except (OSError, smtplib.SMTPException, AnymailAPIError):
                drop_connection(backend)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
