"""Writing a run's outbox: one pending Attempt per recipient, chunk by chunk.

Over a million recipients one INSERT ... SELECT held a transaction for minutes
(every row queued its foreign-key checks and updated a dozen indexes before the
commit) and nothing could be sent before its end. The audience is written instead
by ranges of client ids (OUTBOX_CHUNK_IDS wide): one INSERT ... SELECT per range,
committed with the run's cursor (`outbox_through`) and counts. Consumers claim
the first rows while the rest is written; the run cannot finish while its cursor
is set, and a writer that died leaves the cursor, from which the sweeper resumes.

Each chunk locks the run's row first (the one lock order: run, then its rows) and
moves on from the cursor it read, so two writers never write one range; the
unique (run, client) is the backstop. Within a caller's transaction (tests, a
send inside another atomic block) the chunks are savepoints, committed with it.
"""

from collections.abc import Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from ..audiences import ClientIds, audience, deliverable, insert_attempts
from ..control import LIVE_RUN
from ..models import UNDELIVERABLE, Client, Mailing, MailingRun
from ..windows import hold_for_windows


def write_outbox(run_id: int) -> Iterator[bool]:
    """Write what is left of the run's outbox, one committed chunk at a time;
    yields after each chunk whether more remain."""
    more = True
    while more:
        with transaction.atomic():
            more = _write_next_chunk(run_id)
        yield more


def write_all(run_id: int) -> None:
    """The whole rest of the outbox, for callers with nothing to do between
    chunks."""
    for _more in write_outbox(run_id):
        pass


def starting_cursor(mailing: Mailing) -> int | None:
    """The cursor of a new run: just before its audience's first client (other
    owners' clients before it are not walked), None when there is nobody."""
    first = audience(mailing).aggregate(first=Min("pk"))["first"]
    return None if first is None else first - 1


def is_writing(run: MailingRun) -> bool:
    return run.outbox_through is not None


def _write_next_chunk(run_id: int) -> bool:
    """Write the range after the cursor; whether chunks remain."""
    run = (
        MailingRun.objects.select_for_update(of=("self",))
        .select_related("mailing__segment")
        .filter(pk=run_id, outbox_through__isnull=False)
        .first()
    )
    if run is None:  # complete, or written by another writer meanwhile
        return False
    if run.status not in LIVE_RUN:  # cancelled or failed: no rows to add
        MailingRun.objects.filter(pk=run_id).update(outbox_through=None)
        return False
    ids = (run.outbox_through, run.outbox_through + settings.OUTBOX_CHUNK_IDS)
    added, skipped = _write_range(run, ids)
    top = Client.objects.aggregate(top=Max("pk"))["top"] or 0
    if ids[1] >= top:
        through = None
    elif added or skipped:
        through = ids[1]
    else:
        through = _before_next_member(run, ids[1], top)
    MailingRun.objects.filter(pk=run_id).update(
        total=F("total") + added,
        skipped_count=F("skipped_count") + skipped,
        outbox_through=through,
        heartbeat_at=timezone.now(),
    )
    return through is not None


def _before_next_member(run: MailingRun, after: int, top: int) -> int | None:
    """Past a range with nobody in it (another owner's clients): the cursor just
    before the audience's next client, or None when there is none."""
    following = audience(run.mailing, (after, top)).aggregate(first=Min("pk"))
    return None if following["first"] is None else following["first"] - 1


def _write_range(run: MailingRun, ids: ClientIds) -> tuple[int, int]:
    """(rows added, audience members left out: unsubscribed or suppressed) for
    the clients with ids in `ids`; their delivery windows held."""
    members = audience(run.mailing, ids)
    added = insert_attempts(run, deliverable(members))
    if added:
        hold_for_windows(run, timezone.now(), ids)
    # Every deliverable member was added, so the rest are the few undeliverable
    # ones, read from their partial index (counting all members again re-ran the
    # audience over the whole range, ~4 s a 1M run).
    return added, members.filter(UNDELIVERABLE).count()
