"""Real SMTP servers on loopback for the sending tests (aiosmtpd in this process)."""

import email
import socket
from contextlib import contextmanager
from email import policy

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Keeps every accepted email; answers `refuse[address]` to chosen RCPTs."""

    def __init__(self, refuse: dict[str, str] | None = None):
        self.refuse = refuse or {}
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 Ok: queued"

    @property
    def messages(self):
        return [
            email.message_from_bytes(content, policy=policy.default)
            for _, content in self.envelopes
        ]


class Pipelining:
    """The handler's server, advertising PIPELINING (RFC 2920) as Postfix and Exim do.

    aiosmtpd reads commands one line at a time, so a pipelined group works with it;
    it only does not say so. Every other hook is the wrapped handler's.
    """

    def __init__(self, handler):
        self.handler = handler

    def __getattr__(self, name):
        return getattr(self.handler, name)

    def __dir__(self):  # aiosmtpd finds the hooks with dir()
        return sorted({*dir(self.handler), "handle_EHLO"})

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


@pytest.fixture(params=[True, False], ids=["pipelining", "one-by-one"])
def pipelining(request) -> bool:
    """Run a test against a server with PIPELINING and against one without."""
    return request.param


def controller_for(handler, port: int, pipelining: bool = True) -> Controller:
    wrapped = Pipelining(handler) if pipelining else handler
    return Controller(wrapped, hostname="127.0.0.1", port=port)


@contextmanager
def smtp_server(handler, pipelining: bool = True):
    controller = controller_for(handler, free_port(), pipelining)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@contextmanager
def hanging_server():
    """Accepts TCP connections (the kernel's backlog) and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def smtp_settings(port: int, **extra) -> dict:
    return {
        "EMAIL_BACKEND": "mailing.sending.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_USE_TLS": False,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        **extra,
    }
