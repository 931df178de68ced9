"""The task queue dies (and hangs) during sign-up: the page answers, the email goes.

Huey's storage points at a private Redis started for the test, with the connection
timeouts of the settings; the shared Redis is never touched.
"""

import logging
import time

import pytest
import redis
from django.conf import settings
from django.core import mail
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage

from accounts.models import User
from tests.accounts.conftest import path_in
from tests.accounts.helpers import finish_sign_up, sign_up

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def queue(private_redis, monkeypatch):
    """Huey as in production (not immediate), on the private Redis."""
    configured = settings.HUEY["connection_pool"].connection_kwargs
    timeouts = {
        name: configured[name] for name in ("socket_connect_timeout", "socket_timeout")
    }
    pool = redis.ConnectionPool.from_url(private_redis.url, **timeouts)
    storage = RedisStorage("vestnik-faults", connection_pool=pool)
    monkeypatch.setattr(HUEY, "_immediate", False)
    monkeypatch.setattr(HUEY, "storage", storage)
    return private_redis


def test_sign_up_queues_the_email_and_a_consumer_sends_it(client, queue, monkeypatch):
    response = sign_up(client, "queued@example.com")

    assert response.status_code == 302
    assert not mail.outbox  # the consumer sends it
    assert HUEY.pending_count() == 1

    # What a consumer does: take the task off Redis and run it (as if immediate,
    # so djhuey does not close the test's database connection).
    task = HUEY.dequeue()
    monkeypatch.setattr(HUEY, "_immediate", True)
    HUEY.execute(task)

    (message,) = mail.outbox
    assert message.to == ["queued@example.com"]
    assert finish_sign_up(client, path_in(message)).status_code == 302
    assert User.objects.get(email="queued@example.com").is_active


@pytest.mark.parametrize("fault", ["down", "hung"])
def test_sign_up_sends_the_email_itself_when_the_queue_fails(
    client, queue, caplog, fault
):
    queue.stop() if fault == "down" else queue.pause()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        response = sign_up(client, f"{fault}@example.com")
    elapsed = time.monotonic() - started
    print(f"fault injected: task queue {fault}; sign-up answered in {elapsed:.1f} s")

    assert response.status_code == 302
    assert User.objects.filter(email=f"{fault}@example.com").exists()
    (message,) = mail.outbox
    assert message.to == [f"{fault}@example.com"]
    assert "Task queue unreachable" in caplog.text
