"""Client imports of any size (issue 12): a Huey task works through the stashed
file in chunks, one transaction per chunk with a few bulk statements, and commits
the job's progress with each chunk. A consumer that dies mid-file loses at most
the chunk in flight: the sweeper starts the task again and it carries on from the
last committed row. Memory stays flat: the file is streamed and the owner's known
addresses are looked up per chunk, never loaded whole.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .client_rows import RowProblem
from .client_writes import write_clients
from .exports import escape_formula
from .import_mapping import (
    TITLE_ROWS,
    Fields,
    find_header,
    guess_mapping,
    owner_fields,
    row_client,
    width_of,
)
from .import_repeats import MAX_LISTED, SeenAddresses, repeat_reason
from .imports import ImportFileError, TextFormat, read_rows, stash_path, text_format
from .models import ImportJob, ImportRejection, MailingList

# Bigger chunks pay the per-statement and per-commit costs less often; 25,000
# rows of Python lists stay well under the import's memory budget.
CHUNK_ROWS = 25_000
# No chunk takes this long: a job unchanged for longer has lost its consumer.
STALLED_AFTER = timedelta(minutes=5)
# A consumer takes a queued job within seconds; a minute without one means none runs.
NO_WORKER_AFTER = timedelta(minutes=1)
Status = ImportJob.Status
Row = tuple[int, list[str]]


def header_only_reason() -> str:
    """Said by the preview and by the job (a file may change between them)."""
    return _("The file has only its header row: there are no clients in it.")


@dataclass(frozen=True)
class Layout:
    """How the job reads each row, known from the file's first row alone (so a
    resumed job reads the rest exactly as the first run did)."""

    mapping: dict[str, int]
    width: int | None  # None for XLSX: no cell of it can be out of place
    header_line: int | None  # it and the title rows above it are no clients
    header_rows: int  # how many rows that is (0 without a header)
    fields: Fields  # the owner's declared fields, for attribute columns


def layout_of(job: ImportJob, path, text: TextFormat | None) -> Layout:
    head = list(islice(read_rows(path, text), TITLE_ROWS + 1))
    if not head:
        raise ImportFileError(_("The file is empty."))
    found = find_header(head)
    first = found[1] if found else head[0][1]
    header_line = head[found[0]][0] if found else None
    fields = owner_fields(job.owner_id)
    mapping = job.mapping or guess_mapping(first, fields)
    width = width_of(first) if text is not None else None
    return Layout(mapping, width, header_line, found[0] + 1 if found else 0, fields)


def start_import(
    owner,
    file_token: str,
    file_name: str = "",
    mailing_list: MailingList | None = None,
    existing: str = ImportJob.Existing.SKIP,
    mapping: dict | None = None,
) -> ImportJob:
    """Record the job and wake a consumer; the work happens in run_import."""
    from .tasks import import_clients_job

    job = ImportJob.objects.create(
        owner=owner,
        file_token=file_token,
        file_name=file_name[:255],
        mailing_list=mailing_list,
        existing=existing,
        mapping=mapping or {},
    )
    transaction.on_commit(lambda: import_clients_job(job.pk))
    return job


def run_import(job_id: int) -> ImportJob | None:
    """Import the job's file from its last committed row to the end."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status in ImportJob.FINISHED:
        return job
    path = stash_path(job.file_token)
    try:
        # The file is read twice: once to count its rows (the progress bar's
        # total; a resumed job has it), once to import them.
        text = text_format(path)
        layout = layout_of(job, path, text)
        if job.total_rows is None:
            _begin(job, sum(1 for _row in read_rows(path, text)), layout)
        rows = read_rows(path, text)
        seen = _seen_before(rows, job.rows_done, layout)
        with closing(_checked_chunks(rows, layout, seen)) as chunks:
            for chunk in chunks:
                job = _commit_chunk(job, chunk, layout)
                if job is None:  # another consumer has taken over
                    return None
    except FileNotFoundError:
        return _fail(job, _("The uploaded file is gone: upload it again."))
    except ImportFileError as error:
        return _fail(job, str(error))
    ImportJob.objects.filter(pk=job.pk).update(status=Status.DONE)
    path.unlink(missing_ok=True)
    job.refresh_from_db()
    return job


def _seen_before(rows: Iterator[Row], done: int, layout: Layout) -> SeenAddresses:
    """The addresses of the rows a resumed job has imported (its `rows` then go
    on from there), so that a row repeating one of them is still told apart."""
    seen = SeenAddresses()
    while done > 0:
        chunk = list(islice(rows, min(done, CHUNK_ROWS)))
        if not chunk:
            break
        check_chunk(chunk, layout, seen)
        done -= len(chunk)
    return seen


def _begin(job: ImportJob, total: int, layout: Layout) -> None:
    if not total:
        raise ImportFileError(_("The file is empty."))
    if total == layout.header_rows:
        raise ImportFileError(header_only_reason())
    job.total_rows, job.status = total, Status.RUNNING
    job.save(update_fields=["total_rows", "status", "changed_at"])


def _fail(job: ImportJob, reason: str) -> ImportJob:
    job.status, job.error = Status.FAILED, reason
    job.save(update_fields=["status", "error", "changed_at"])
    stash_path(job.file_token).unlink(missing_ok=True)
    return job


@dataclass
class CheckedChunk:
    """A chunk's rows as checked, before anything is written."""

    rows: int
    clients: list[dict] = field(default_factory=list)  # distinct addresses
    rejections: list[tuple[int, str]] = field(default_factory=list)
    # Rows whose address an earlier row of the file has: (line, its first line, reason).
    repeats: list[tuple[int, int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return self.rows


def _checked_chunks(
    rows: Iterator[Row], layout: Layout, seen: SeenAddresses
) -> Iterator[CheckedChunk]:
    """The file's chunks, each read and checked in a helper thread while the
    previous one is written: the rows' Python work overlaps the database's
    (psycopg waits for the server without holding the GIL), so with two cores an
    import takes about the longer of the two rather than their sum. The thread
    touches no database and speaks the caller's language (rejection reasons)."""
    language = translation.get_language()

    def next_chunk() -> CheckedChunk | None:
        with translation.override(language):
            chunk = list(islice(rows, CHUNK_ROWS))
            return check_chunk(chunk, layout, seen) if chunk else None

    with ThreadPoolExecutor(max_workers=1) as helper:
        pending = helper.submit(next_chunk)
        while (checked := pending.result()) is not None:
            pending = helper.submit(next_chunk)
            yield checked


def check_chunk(
    chunk: list[Row], layout: Layout, seen: SeenAddresses | None = None
) -> CheckedChunk:
    """The chunk's rows checked; `seen` (the earlier chunks' addresses) learns
    this chunk's."""
    checked = CheckedChunk(len(chunk))
    seen = seen or SeenAddresses()
    first_lines: dict[str, int] = {}
    for line, row in chunk:
        if layout.header_line is not None and line <= layout.header_line:
            continue
        try:
            values = row_client(row, layout.mapping, layout.width, layout.fields)
        except RowProblem as problem:
            checked.rejections.append((line, str(problem)))
            continue
        key = values["email"].lower()
        first = first_lines.get(key) or seen.first_line(key)
        if first is not None:
            reason = repeat_reason(values["email"], first)
            checked.repeats.append((line, first, reason))
            continue
        first_lines[key] = line
        checked.clients.append(values)
    seen.add_chunk(first_lines)
    return checked


def _commit_chunk(
    job: ImportJob, chunk: CheckedChunk, layout: Layout
) -> ImportJob | None:
    """One transaction: the chunk's clients, subscriptions, rejections and the
    job's progress, or none of them."""
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.rows_done != job.rows_done or locked.status in ImportJob.FINISHED:
            return None
        _import_chunk(locked, chunk, layout)
        locked.rows_done += len(chunk)
        locked.status = Status.RUNNING
        locked.save()
    return locked


def _commit_without_waiting_for_disk() -> None:
    """On PostgreSQL the chunk's commit returns before its WAL reaches the disk. A
    server crash may lose the last chunks, but each with its own checkpoint (the
    job's progress is in the same transaction), so the resumed job redoes them.
    The file is deleted only after the job is marked done in an ordinary commit,
    whose flush of the log takes every earlier chunk's commit to the disk too."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _import_chunk(job: ImportJob, chunk: CheckedChunk, layout: Layout) -> None:
    listed = chunk.repeats[: max(0, MAX_LISTED - job.repeated)]
    ImportRejection.objects.bulk_create(
        [
            *(ImportRejection(job=job, line=n, reason=r) for n, r in chunk.rejections),
            *(
                ImportRejection(job=job, line=n, reason=r, first_line=first)
                for n, first, r in listed
            ),
        ]
    )
    job.rejected += len(chunk.rejections)
    job.repeated += len(chunk.repeats)
    written = write_clients(
        job.owner_id, chunk.clients, job.existing, job.mailing_list_id
    )
    job.created += written.created
    job.updated += written.updated
    unchanged = len(chunk.clients) - written.created - written.updated
    job.skipped += unchanged


def resume_stalled_imports(now: datetime) -> list[int]:
    """Wake the task again for imports whose consumer died (Huey forgets them)."""
    from .tasks import import_clients_job

    stalled = list(
        ImportJob.objects.filter(
            ~Q(status__in=ImportJob.FINISHED), changed_at__lt=now - STALLED_AFTER
        ).values_list("pk", flat=True)
    )
    for pk in stalled:
        import_clients_job(pk)
    return stalled


def waits_for_worker(job: ImportJob, now: datetime) -> bool:
    """Queued for longer than a running consumer would leave it: worth a hint."""
    return job.status == ImportJob.Status.QUEUED and job.changed_at < (
        now - NO_WORKER_AFTER
    )


def progress(job: ImportJob, now: datetime | None = None) -> dict:
    """What the progress bar polls."""
    return {
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "total": job.total_rows,
        "done": job.rows_done,
        "created": job.created,
        "updated": job.updated,
        "skipped": job.skipped,
        "rejected": job.rejected,
        "repeated": job.repeated,
        "repeated_lines": repeated_lines(job),
        "error": job.error,
        "finished": job.status in ImportJob.FINISHED,
        "waits_for_worker": waits_for_worker(job, now or timezone.now()),
    }


def repeated_lines(job: ImportJob, shown: int = 20) -> str:
    """The first repeated rows' lines, for the job's page ("" when none)."""
    if not job.repeated:
        return ""
    lines = job.rejections.filter(first_line__isnull=False).order_by("line")
    numbers = [str(n) for n in lines.values_list("line", flat=True)[:shown]]
    more = "…" if job.repeated > len(numbers) else ""
    return _("lines %(lines)s") % {"lines": ", ".join(numbers) + more}


def rejected_rows_csv(job: ImportJob) -> Iterable[str]:
    """The rows not imported, streamed: line in the file and reason (rejected
    rows, and repeated ones up to MAX_LISTED)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([escape_formula(value) for value in values])
        return buffer.getvalue()

    yield line([_("Line"), _("Reason")])
    rows = job.rejections.order_by("line").values_list("line", "reason")
    for number, reason in rows.iterator(chunk_size=2000):
        yield line([number, reason])
    if job.repeated > MAX_LISTED:
        unlisted = job.repeated - MAX_LISTED
        yield line(
            [
                "",
                _("Repeated rows not listed here: %(count)d.") % {"count": unlisted},
            ]
        )
