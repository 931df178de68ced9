"""Counted webhook events: accepted in the request, recorded in batches.

Most ESPs post one event a request (Postmark), and recording it there cost a
transaction (four round trips to PostgreSQL) per event: 160-214 events/s on the
benchmark machine, far from the 2,000 a big mailing's deliveries and opens need
(issue 17). So the webhook view appends the events that only count (deliveries,
deferrals, opens, clicks) to a Redis stream and answers; a Huey task reads the
stream through a consumer group, several hundred entries at a time, and records
them set-wise (mailing.event_batches: one transaction a batch).

What must never be lost stays out of the queue: bounces, complaints,
unsubscriptions and rejections suppress or unsubscribe someone, so they are
recorded in the request with a durable commit, and the ESP hears 200 only then.

A consumer that dies loses nothing: an entry is acknowledged (and deleted) only
after its batch committed; until then it stays pending in the group, and the next
drain claims what has been pending longer than CLAIM_IDLE_MS. An entry applied
twice (a consumer killed between commit and acknowledgement) adds nothing: events
are deduplicated by their key. Redis has to keep what it holds: without AOF a
Redis restart drops the entries not applied yet (README, "ESP webhooks").

An entry that fails on its own (not the database being away) is claimed again each
minute; after MAX_DELIVERIES tries it moves to a dead-letter stream with the
error, logged, so one bad entry is not retried forever. `manage.py queued_events`
shows the counts and puts dead letters back once the cause is fixed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from datetime import datetime

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from redis import Redis
from redis.exceptions import RedisError

from .event_batches import record_events
from .events import COUNTED_ONLY, Happening

logger = logging.getLogger(__name__)

QUEUED_KINDS = COUNTED_ONLY  # they change no client: a figure and a status
GROUP = "recorders"
BATCH_ENTRIES = 500
CLAIM_IDLE_MS = 60_000  # pending this long: its consumer died (a batch takes < 1 s)
DRAIN_SECONDS = 20  # then a fresh task goes on, so a worker thread is not kept
KICK_SECONDS = 60  # a drain that died holding the key blocks wake-ups this long
MAX_DELIVERIES = 5  # an entry read this often and failing each time is dead
# The entry, and whether a drain must be woken: one command, which costs the
# client less than a pipeline of two.
APPEND_AND_KICK = """
redis.call("XADD", KEYS[1], "*", "items", ARGV[1])
return redis.call("SET", KEYS[2], 1, "NX", "EX", ARGV[2]) and 1 or 0
"""
_THREAD = threading.local()
_SCRIPTS: dict = {}  # source -> redis Script, see _append_and_kick
DATES = ("at", "received_at")


def stream_key() -> str:
    # Per database: the suite's test database and the dev server share one Redis.
    return f"vestnik:webhook-events:{connection.settings_dict['NAME']}"


def accept(items: list[tuple[int, Happening]]) -> bool:
    """Queue these (attempt id, happening) pairs; False when they could not be
    queued (no Redis, or it failed): the caller records them itself."""
    client = _client()
    if client is None or not items:
        return False
    now = timezone.now()
    for _attempt_id, happening in items:
        happening.received_at = happening.received_at or now
    entry = json.dumps([_dump(*item) for item in items])
    stream = stream_key()  # one lookup of the thread's connection, not two
    try:
        wake = _append_and_kick(client)(
            keys=[stream, _kick_key(stream)], args=[entry, KICK_SECONDS], client=client
        )
    except RedisError as error:
        logger.warning("event queue unavailable, recording in the request: %s", error)
        return False
    if wake:
        _wake()
    return True


def drain(claim_idle_ms: int = CLAIM_IDLE_MS, seconds: float = DRAIN_SECONDS) -> int:
    """Record what the stream holds, first what dead consumers left; the number
    of events newly recorded."""
    client = _client()
    if client is None:
        return 0
    stream, consumer = stream_key(), _consumer_name()
    # Held while this drain runs: requests wake nobody, and each read takes all
    # that came during the batch before it (one wake-up a request made batches
    # of one entry, and cost each request a Huey enqueue).
    client.set(_kick_key(stream), 1, ex=KICK_SECONDS)
    _ensure_group(client, stream)
    deadline, recorded = time.monotonic() + seconds, 0
    batches = _abandoned(client, stream, consumer, claim_idle_ms)
    while entries := (
        next(batches, None)
        or _new(client, stream, consumer)
        or _last_new(client, stream, consumer)
    ):
        if len(entries) == BATCH_ENTRIES:
            _call_a_helper(client, stream)
        recorded += _apply(client, stream, entries)
        if time.monotonic() > deadline:
            _wake()  # a fresh drain takes over the key
            break
    return recorded


def help_drain(seconds: float = DRAIN_SECONDS) -> int:
    """Record new entries beside the drain that woke this one, until the stream
    is empty; the number of events newly recorded.

    One drain waits for PostgreSQL on each batch in turn: a backlog of
    deliveries was recorded at a third of the rate it was accepted on a busy
    machine (issue 17), while a second drain's batches go in meanwhile. The two
    read different entries (one consumer group); two batches that touch the same
    rows lock them in the same order (event_batches), so they wait, never
    deadlock."""
    client = _client()
    if client is None:
        return 0
    stream, consumer = stream_key(), _consumer_name()
    deadline, recorded = time.monotonic() + seconds, 0
    try:
        while time.monotonic() < deadline and (
            entries := _new(client, stream, consumer)
        ):
            recorded += _apply(client, stream, entries)
    finally:
        client.delete(_helper_key(stream))  # the drain may call for help again
    return recorded


def pending_count() -> int:
    """Entries accepted and not yet recorded (read or not)."""
    client = _client()
    return int(client.xlen(stream_key())) if client is not None else 0


def dead_letter_count() -> int:
    """Entries that failed MAX_DELIVERIES times and wait for an operator."""
    client = _client()
    return int(client.xlen(dead_letter_key())) if client is not None else 0


def requeue_dead_letters() -> int:
    """Puts the dead letters back in the stream (their cause fixed); how many."""
    client, stream = _client(), stream_key()
    if client is None:
        return 0
    moved = 0
    for entry_id, fields in client.xrange(dead_letter_key()):
        with client.pipeline() as pipe:  # MULTI: in one stream or the other
            pipe.xadd(stream, {"items": fields[b"items"]})
            pipe.xdel(dead_letter_key(), entry_id)
            pipe.execute()
        moved += 1
    return moved


def dead_letter_key() -> str:
    return f"{stream_key()}:dead"


def _client():
    if not settings.WEBHOOK_EVENT_QUEUE:
        return None
    if "django_redis" not in settings.CACHES["default"]["BACKEND"]:
        return None
    from django_redis import get_redis_connection

    # Each thread keeps one connection of the cache's pool for the queue: taking
    # it from the pool and giving it back cost each one-event request about a
    # fifth of its CPU (redis-py's locks, pid checks and metrics). A fork or a
    # new pool (tests changing settings) gets a client of its own.
    pool = get_redis_connection("default").connection_pool
    key = (os.getpid(), pool)
    if getattr(_THREAD, "key", None) != key:
        _THREAD.client = Redis(connection_pool=pool, single_connection_client=True)
        _THREAD.key = key
    return _THREAD.client


def _append_and_kick(client):
    """The script, registered once a process: register_script encodes and hashes
    the source each time (a few percent of a one-event request). A Script runs
    on the client it is given, whichever thread's that is."""
    return _SCRIPTS.get(APPEND_AND_KICK) or _SCRIPTS.setdefault(
        APPEND_AND_KICK, client.register_script(APPEND_AND_KICK)
    )


def _kick_key(stream: str) -> str:
    return f"{stream}:kick"


def _helper_key(stream: str) -> str:
    return f"{stream}:helper"


def _call_a_helper(client, stream: str) -> None:
    """A full batch read: the stream is backed up; one helper at a time."""
    if client.set(_helper_key(stream), 1, nx=True, ex=KICK_SECONDS):
        _wake(helper=True)


def _last_new(client, stream: str, consumer: str) -> list:
    """The stream looked empty: from here the next event wakes a drain, and one
    more read takes what came before the key went."""
    client.delete(_kick_key(stream))
    return _new(client, stream, consumer)


def _wake(helper: bool = False) -> None:
    from .tasks import record_queued_events

    try:
        record_queued_events(helper)
    except RedisError as error:  # queued: the sweeper applies them within a minute
        logger.warning("event queue: no wake-up for the recorder: %s", error)


def _ensure_group(client, stream: str) -> None:
    try:
        client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except RedisError as error:
        if "BUSYGROUP" not in str(error):
            raise


def _abandoned(client, stream: str, consumer: str, claim_idle_ms: int):
    """Batches of entries pending longer than claim_idle_ms, claimed for this
    consumer: one pass over the pending list, so an entry that fails again is
    not retried in a loop."""
    start = "0-0"
    while True:
        start, claimed, *_deleted = client.xautoclaim(
            stream, GROUP, consumer, claim_idle_ms, start, count=BATCH_ENTRIES
        )
        if claimed:
            yield claimed
        if start in (b"0-0", "0-0"):
            return


def _new(client, stream: str, consumer: str) -> list:
    read = client.xreadgroup(GROUP, consumer, {stream: ">"}, count=BATCH_ENTRIES)
    return read[0][1] if read else []


def _apply(client, stream: str, entries: list) -> int:
    """Record the entries in one batch, or one by one when the batch fails; an
    entry that fails alone stays pending, to be claimed again after a while."""
    try:
        recorded = record_events(_items(entries))
    except (OperationalError, InterfaceError):
        raise  # the database is away: stop, everything stays pending
    except Exception as error:  # noqa: BLE001 - one bad entry must not hold up the rest
        if len(entries) == 1:
            _failed(client, stream, entries[0], error)
            return 0
        return sum(_apply(client, stream, [entry]) for entry in entries)
    _forget(client, stream, [entry_id for entry_id, _fields in entries])
    return recorded


def _forget(client, stream: str, ids: list, dead_letter: dict | None = None) -> None:
    with client.pipeline() as pipe:  # MULTI: a dead letter is moved, not copied
        if dead_letter:
            pipe.xadd(f"{stream}:dead", dead_letter)
        pipe.xack(stream, GROUP, *ids)
        pipe.xdel(stream, *ids)
        pipe.execute()


def _failed(client, stream: str, entry, error: Exception) -> None:
    """An entry that failed alone stays pending, to be claimed again after a
    while, until its MAX_DELIVERIES-th try: then it goes to the dead letters."""
    entry_id, fields = entry
    pending = client.xpending_range(stream, GROUP, entry_id, entry_id, 1)
    tries = pending[0]["times_delivered"] if pending else 1
    if tries < MAX_DELIVERIES:
        logger.warning(
            "event queue: entry %s not recorded (try %s of %s): %r",
            entry_id, tries, MAX_DELIVERIES, error, exc_info=error,
        )  # fmt: skip
        return
    reason = f"{type(error).__name__}: {error}"[:1000]
    _forget(client, stream, [entry_id], {"items": fields[b"items"], "error": reason})
    logger.error(
        "event queue: entry %s failed %s times, moved to the dead letters "
        "(manage.py queued_events): %s",
        entry_id, tries, reason, exc_info=error,
    )  # fmt: skip


def _items(entries: list) -> list[tuple[int, Happening]]:
    return [
        _load(*item)
        for _entry_id, fields in entries
        for item in json.loads(fields[b"items"])
    ]


def _dump(attempt_id: int, happening: Happening) -> list:
    # Flat fields of plain values: no deep copy (dataclasses.asdict) needed. Only
    # those set: most are empty (a delivery has 4 of 15), and writing them all
    # was a quarter of a batch request's CPU (py-spy, issue 17).
    fields = {name: value for name, value in vars(happening).items() if value}
    fields.update(kind=happening.kind, source=happening.source)  # no defaults
    for name in DATES:
        if name in fields:
            fields[name] = fields[name].isoformat()
    return [attempt_id, fields]


def _load(attempt_id: int, fields: dict) -> tuple[int, Happening]:
    for name in DATES:
        if fields.get(name):  # entries queued before a deploy name every field
            fields[name] = datetime.fromisoformat(fields[name])
    return attempt_id, Happening(**fields)


def _consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{threading.get_native_id()}"
