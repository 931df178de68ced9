"""Importing clients from a CSV file (email, full name, comment): UTF-8 (with or
without BOM), UTF-16, Windows-1251 or KOI8-R; comma, semicolon or tab.

Streams the file row by row and inserts in batches inside one transaction, so a
50,000-row file fits in one request without holding it in memory, and a crash
leaves nothing half-written. Duplicates (case-insensitive, within the file or
against the owner's clients) change nothing and are counted.
"""

import codecs
import csv
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zipfile import BadZipFile

from charset_normalizer import from_bytes
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from .addresses import AddressError, normalise_email, normalise_name
from .models import Client, ImportJob
from .suppression import mark_suppressed

logger = logging.getLogger(__name__)
# Without a BOM and not UTF-8: what Russian Excel (cp1251) or old Unix tools write.
SINGLE_BYTE = ["cp1251", "koi8_r"]
SAMPLE_BYTES = 256 * 1024
SNIFF_CHARS = 64 * 1024
DELIMITERS = ",;\t"
BATCH_SIZE = 1000
MAX_LISTED_ERRORS = 200
SAMPLE_SIZE = 10
HEADER_WORDS = {"email", "e-mail", "почта", "адрес", "электронная почта"}
MAX_EMAIL, MAX_NAME, MAX_COMMENT = 254, 255, 10_000


CHUNK = 64 * 1024
ZIP_MAGIC = b"PK\x03\x04"


class ImportFileError(Exception):
    """The file as a whole cannot be read: nothing is imported."""


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    valid: int = 0
    duplicates: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    sample: list[tuple[str, str, str]] = field(default_factory=list)

    def add_error(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(RowError(line, reason))


def detect_encoding(path: Path) -> str:
    """The file's encoding: a BOM says UTF-8 or UTF-16; text that is valid UTF-8
    is UTF-8; else charset-normalizer tells Windows-1251 from KOI8-R by what the
    Cyrillic reads like (guessing one of them read "Кошкин" as "лПЫЛЙО")."""
    with path.open("rb") as stream:
        sample = stream.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif _decodes(path, "utf-8"):
        return "utf-8-sig"
    else:
        # No verdict (a few odd bytes): Windows-1251, if it decodes at all.
        best = from_bytes(sample, cp_isolation=SINGLE_BYTE).best()
        candidates = [best.encoding if best is not None else "cp1251"]
    for encoding in candidates:
        if _decodes(path, encoding):
            return encoding
    raise ImportFileError(
        _(
            "The file is not text in a known encoding (UTF-8, UTF-16, "
            "Windows-1251, KOI8-R). Save it as CSV UTF-8."
        )
    )


def _decodes(path: Path, encoding: str) -> bool:
    try:
        with path.open(encoding=encoding, newline="") as stream:
            while stream.read(CHUNK):
                pass
    except UnicodeError:
        return False
    return True


def sniff_delimiter(path: Path, encoding: str) -> str:
    """Comma, semicolon (what a Russian Excel writes) or tab, from the first
    lines; a file of one column has none and reads as comma-separated."""
    with path.open(encoding=encoding, newline="") as stream:
        sample = stream.read(SNIFF_CHARS)
    if "\n" in sample.rstrip("\r\n"):
        sample = sample[: sample.rstrip("\r\n").rfind("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def row_problem(row: list[str]) -> str | None:
    return parse_row(row)[1]


def parse_row(row: list[str]) -> tuple[tuple[str, str, str] | None, str | None]:
    """The row's email, name and comment as they are stored, or why it cannot be."""
    if not 1 <= len(row) <= 3:
        return None, _("Broken row: expected 1 to 3 columns, found %(count)d.") % {
            "count": len(row)
        }
    if any("\x00" in cell for cell in row):
        # Not text, and PostgreSQL cannot store it: refused here, not at the INSERT.
        return None, _("The row contains a NUL character.")
    email, name, comment = (row + ["", ""])[:3]
    if len(email.strip()) > MAX_EMAIL:
        return None, _("The email is too long.")
    try:
        email, name = normalise_email(email.strip()), normalise_name(name.strip())
    except AddressError as error:
        return None, str(error)
    if len(comment) > MAX_COMMENT:
        return None, _("The comment is too long.")
    return (email, name, comment.strip()), None


def is_xlsx(path: Path) -> bool:
    """An XLSX workbook is a ZIP archive: told by its first bytes, not its name."""
    with path.open("rb") as stream:
        return stream.read(4) == ZIP_MAGIC


def read_xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows, streamed (read-only mode keeps memory flat)."""
    # A file object: openpyxl refuses a path whose name does not end in .xlsx.
    with path.open("rb") as stream:
        try:
            book = load_workbook(stream, read_only=True, data_only=True)
        except (BadZipFile, InvalidFileException, KeyError, OSError) as error:
            raise ImportFileError(_("The XLSX file cannot be read.")) from error
        try:
            sheet = book.worksheets[0]
            for line, values in enumerate(sheet.iter_rows(values_only=True), 1):
                row = ["" if value is None else str(value) for value in values]
                while row and not row[-1].strip():
                    row.pop()
                if row:
                    yield line, row
        finally:
            book.close()


def read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    if is_xlsx(path):
        yield from read_xlsx_rows(path)
        return
    encoding = detect_encoding(path)
    delimiter = sniff_delimiter(path, encoding)
    with path.open(encoding=encoding, newline="") as stream:
        reader = csv.reader(stream, delimiter=delimiter)
        try:
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    yield reader.line_num, row
        except csv.Error as error:
            raise ImportFileError(
                _("The CSV file is broken at line %(line)d: %(error)s")
                % {"line": reader.line_num, "error": error}
            ) from error


def is_header(line: int, row: list[str]) -> bool:
    return line == 1 and row[0].strip().lower() in HEADER_WORDS


def scan(path: Path, owner, report: ImportReport) -> Iterator[Client]:
    """Yields the new clients of the file; counts errors and duplicates on the way."""
    seen = {
        email.lower()
        for email in Client.objects.filter(owner=owner)
        .values_list("email", flat=True)
        .iterator()
    }
    empty = True
    for line, row in read_rows(path):
        empty = False
        if is_header(line, row):
            continue
        if problem := row_problem(row):
            report.add_error(line, problem)
            continue
        email, name, comment = ([cell.strip() for cell in row] + ["", ""])[:3]
        # Checked by row_problem: the forms the transport can send.
        email, name = normalise_email(email), normalise_name(name)
        report.valid += 1
        if email.lower() in seen:
            report.duplicates += 1
            continue
        seen.add(email.lower())
        if len(report.sample) < SAMPLE_SIZE:
            report.sample.append((email, name, comment))
        yield Client(owner=owner, email=email, full_name=name, comment=comment)
    if empty:
        raise ImportFileError(_("The file is empty."))


def preview_clients(path: Path, owner) -> ImportReport:
    report = ImportReport()
    for _client in scan(path, owner, report):
        pass
    return report


def import_clients(path: Path, owner) -> ImportReport:
    report = ImportReport()
    with transaction.atomic():
        before = Client.objects.filter(owner=owner).count()
        batch: list[Client] = []
        for client in scan(path, owner, report):
            batch.append(client)
            if len(batch) >= BATCH_SIZE:
                _save(batch)
                batch = []
        _save(batch)
        # Counted, not assumed: a concurrent insert may have won a conflict.
        report.created = Client.objects.filter(owner=owner).count() - before
    return report


def _save(batch: list[Client]) -> None:
    # bulk_create skips pre_save: the suppression list is asked here.
    mark_suppressed(batch)
    Client.objects.bulk_create(batch, ignore_conflicts=True)


# --- Uploads waiting between preview and confirm ----------------------------------


def stash_dir() -> Path:
    return Path(settings.CLIENT_IMPORT_DIR)


def stash_upload(upload) -> str:
    """Keep an upload under a random token until it is confirmed or swept."""
    stash_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
    # Also swept here: a web machine whose folder the periodic task cannot see
    # still cleans up after itself.
    sweep_stashes(time.time())
    token = secrets.token_hex(16)
    with stash_path(token).open("wb") as target:
        for chunk in upload.chunks(CHUNK):
            target.write(chunk)
    return token


def stash_path(token: str) -> Path:
    return stash_dir() / f"{token}.csv"


def sweep_stashes(now: float) -> int:
    """Delete uploads abandoned at the preview step (older than CLIENT_IMPORT_MAX_AGE).

    Each holds someone's client list: it must not outlive the person's interest.
    """
    cutoff = now - settings.CLIENT_IMPORT_MAX_AGE
    removed = 0
    # A file an unfinished import still reads is not abandoned, however old.
    in_use = set(
        ImportJob.objects.exclude(status__in=ImportJob.FINISHED).values_list(
            "file_token", flat=True
        )
    )
    for path in stash_dir().glob("*.csv"):
        if path.stem in in_use:
            continue
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # confirmed or swept meanwhile
            continue
    if removed:
        logger.info("swept %s abandoned client import uploads", removed)
    return removed
