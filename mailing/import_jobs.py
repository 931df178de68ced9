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
from datetime import datetime, timedelta
from itertools import islice

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from .audiences import subscribe
from .imports import ImportFileError, is_header, parse_row, read_rows, stash_path
from .models import Client, ImportJob, ImportRejection, MailingList
from .suppression import mark_suppressed

CHUNK_ROWS = 5000
# No chunk takes this long: a job unchanged for longer has lost its consumer.
STALLED_AFTER = timedelta(minutes=5)
DEFAULT_MAPPING = {"email": 0, "full_name": 1, "comment": 2}
Status = ImportJob.Status
CLIENTS = Client._meta.db_table
Row = tuple[int, list[str]]


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
        mapping=mapping or DEFAULT_MAPPING,
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
        if job.total_rows is None:
            _begin(job, sum(1 for _row in read_rows(path)))
        rows = islice(read_rows(path), job.rows_done, None)
        for chunk in _chunks(rows, CHUNK_ROWS):
            job = _commit_chunk(job, chunk)
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


def _begin(job: ImportJob, total: int) -> None:
    if not total:
        raise ImportFileError(_("The file is empty."))
    job.total_rows, job.status = total, Status.RUNNING
    job.save(update_fields=["total_rows", "status", "changed_at"])


def _fail(job: ImportJob, reason: str) -> ImportJob:
    job.status, job.error = Status.FAILED, reason
    job.save(update_fields=["status", "error", "changed_at"])
    stash_path(job.file_token).unlink(missing_ok=True)
    return job


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _commit_chunk(job: ImportJob, chunk: list[Row]) -> ImportJob | None:
    """One transaction: the chunk's clients, subscriptions, rejections and the
    job's progress, or none of them."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.rows_done != job.rows_done or locked.status in ImportJob.FINISHED:
            return None
        _import_chunk(locked, chunk)
        locked.rows_done += len(chunk)
        locked.status = Status.RUNNING
        locked.save()
    return locked


def _import_chunk(job: ImportJob, chunk: list[Row]) -> None:
    fresh: dict[str, tuple[str, str, str]] = {}
    rejections = []
    for line, row in chunk:
        cells = pick(row, job.mapping)
        if is_header(line, cells):
            continue
        values, problem = parse_row(cells)
        if values is None:
            rejections.append(ImportRejection(job=job, line=line, reason=problem))
            continue
        email = values[0]
        if email.lower() in fresh:  # the same address twice in the chunk
            job.skipped += 1
            continue
        fresh[email.lower()] = values
    ImportRejection.objects.bulk_create(rejections)
    job.rejected += len(rejections)
    if fresh:
        _save_clients(job, fresh)


def _save_clients(job: ImportJob, fresh: dict[str, tuple[str, str, str]]) -> None:
    """Create the new addresses, update or skip the known ones, subscribe all of
    them to the target list: a handful of statements for the whole chunk."""
    chunk_clients = Client.objects.alias(key=Lower("email")).filter(
        owner_id=job.owner_id, key__any_of=list(fresh)
    )
    known = dict(chunk_clients.values_list(Lower("email"), "id"))
    new = [
        Client(owner_id=job.owner_id, email=email, full_name=name, comment=comment)
        for key, (email, name, comment) in fresh.items()
        if key not in known
    ]
    mark_suppressed(new)  # a raw INSERT skips pre_save: an opt-out stays opted out
    # Counted, not assumed: a concurrent insert may have won a conflict.
    job.created += _insert_clients(job.owner_id, new)
    if job.existing == ImportJob.Existing.UPDATE:
        job.updated += _update_known(known, fresh)
    else:
        job.skipped += len(known)
    if job.mailing_list_id:
        subscribe(chunk_clients, job.mailing_list)


def _insert_clients(owner_id: int, new: list[Client]) -> int:
    """One INSERT ... SELECT FROM unnest(arrays): a few parameters per chunk.
    Returns how many rows it inserted."""
    if not new:
        return 0
    columns = [
        [client.email for client in new],
        [client.full_name for client in new],
        [client.comment for client in new],
        [client.unsubscribed_at for client in new],
        [client.suppressed_reason for client in new],
    ]
    sql = f"""
        INSERT INTO {CLIENTS} (owner_id, email, full_name, comment, time_zone,
            created_at, unsubscribed_at, suppressed_reason)
        SELECT %s, e, n, c, '', %s, u, s
        FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::text[])
            AS t(e, n, c, u, s)
        ON CONFLICT DO NOTHING
    """  # nosec B608 - the model's table name; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [owner_id, timezone.now(), *columns])
        return cursor.rowcount


def _update_known(known: dict[str, int], fresh: dict) -> int:
    """The file's name and comment over the known clients', where the file has one."""
    for field, index in (("full_name", 1), ("comment", 2)):
        rows = [
            Client(pk=pk, **{field: fresh[key][index]})
            for key, pk in known.items()
            if fresh[key][index]
        ]
        Client.objects.bulk_update(rows, [field])
    return sum(1 for key in known if fresh[key][1] or fresh[key][2])


def pick(row: list[str], mapping: dict) -> list[str]:
    """The email, name and comment cells of a row, by the job's column mapping."""
    if not mapping or mapping == DEFAULT_MAPPING:
        return row
    return [
        row[index] if index is not None and index < len(row) else ""
        for index in (mapping.get(name) for name in DEFAULT_MAPPING)
    ]


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


def progress(job: ImportJob) -> dict:
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
        "error": job.error,
        "finished": job.status in ImportJob.FINISHED,
    }


def rejected_rows_csv(job: ImportJob) -> Iterable[str]:
    """The rejected rows' report, streamed: line in the file and reason."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line([_("Line"), _("Reason")])
    rows = job.rejections.order_by("line").values_list("line", "reason")
    for number, reason in rows.iterator(chunk_size=2000):
        yield line([number, reason])
