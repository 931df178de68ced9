"""A relay's error limits (Postfix: smtpd_soft_error_limit 10, then every reply is
delayed by smtpd_error_sleep_time; 421 at smtpd_hard_error_limit 20) are never
reached: the connection is closed politely and reopened before the soft limit.

Pipelined, a refused recipient draws two errors (RCPT, then DATA's reply), which
made 50 bad addresses in 500 take 93 s against Postfix's defaults.
"""

import asyncio
from contextlib import contextmanager

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from django.test import override_settings

from mailing.models import Attempt

from .smtp_servers import Pipelining, RecordingHandler, free_port, smtp_settings
from .test_smtp_transport import mailing_for, send, statuses

SOFT_LIMIT, HARD_LIMIT = 10, 20


class Limits:
    def __init__(self):
        self.sessions = 0
        self.slowed = 0  # replies delayed past the soft limit
        self.dropped = 0  # sessions a 421 would have ended at the hard limit


class PostfixErrorLimits(SMTP):
    """aiosmtpd counting its error replies per connection as Postfix's smtpd."""

    def __init__(self, handler, limits: Limits, **kwargs):
        super().__init__(handler, **kwargs)
        self.limits = limits
        self.errors = 0
        limits.sessions += 1

    async def push(self, status):
        text = status if isinstance(status, str) else status.decode()
        if text[:1] in "45":
            self.errors += 1
            if self.errors == HARD_LIMIT:
                self.limits.dropped += 1
        if self.errors > SOFT_LIMIT:
            self.limits.slowed += 1
            await asyncio.sleep(0.01)  # Postfix: a second per reply
        await super().push(status)


class LimitedController(Controller):
    def __init__(self, handler, limits: Limits, **kwargs):
        super().__init__(handler, **kwargs)
        self.limits = limits

    def factory(self):
        return PostfixErrorLimits(self.handler, self.limits, **self.SMTP_kwargs)


@contextmanager
def limited_server(handler, pipelining: bool):
    limits = Limits()
    wrapped = Pipelining(handler) if pipelining else handler
    controller = LimitedController(
        wrapped, limits, hostname="127.0.0.1", port=free_port()
    )
    controller.start()
    try:
        yield controller.port, limits
    finally:
        controller.stop()


def one_in_ten_refused(count: int) -> tuple[list[str], dict[str, str]]:
    emails = [f"c{n}@example.org" for n in range(count)]
    return emails, dict.fromkeys(emails[::10], "550 5.1.1 No such user")


@pytest.mark.django_db
def test_refusals_never_reach_the_servers_error_limits(pipelining):
    emails, refuse = one_in_ten_refused(120)
    handler = RecordingHandler(refuse)
    with limited_server(handler, pipelining) as (port, limits):
        with override_settings(**smtp_settings(port, SENDING_CONCURRENCY=1)):
            run = send(mailing_for(emails))

    found = statuses(run)
    assert {e for e, s in found.items() if s == Attempt.Status.FAILURE} == set(refuse)
    assert len(handler.envelopes) == len(emails) - len(refuse)
    assert (limits.slowed, limits.dropped) == (0, 0)
    # A reconnect every few refusals, never one per refusal.
    assert 1 < limits.sessions < len(refuse)


@pytest.mark.django_db
def test_without_the_budget_a_pipelined_run_trips_them():
    """The same run with the budget out of the way: what Postfix punished."""
    emails, refuse = one_in_ten_refused(120)
    with limited_server(RecordingHandler(refuse), pipelining=True) as (port, limits):
        settings = smtp_settings(port, SENDING_CONCURRENCY=1, EMAIL_ERROR_BUDGET=1000)
        with override_settings(**settings):
            send(mailing_for(emails))

    assert limits.slowed > 0 and limits.dropped > 0
