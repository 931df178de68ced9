"""Reading an imported file of clients, CSV or XLSX: the CSV's encoding (UTF-8 with
or without BOM, UTF-16, Windows-1251 or KOI8-R) and delimiter (comma, semicolon or
tab) are detected; rows are streamed, never held whole. The preview reads only a
sample of the file; the import (mailing.import_jobs) reads it all.

Uploads wait here, stashed under a random token, between preview and confirm.
"""

import codecs
import csv
import io
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from zipfile import BadZipFile, ZipFile

from charset_normalizer import from_bytes
from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from .models import ImportJob

logger = logging.getLogger(__name__)
# Without a BOM and not UTF-8: what Russian Excel (cp1251) or old Unix tools write.
SINGLE_BYTE = ["cp1251", "koi8_r"]
SAMPLE_BYTES = 256 * 1024
SNIFF_CHARS = 64 * 1024
DELIMITERS = ",;\t"
# The preview reads no further than this, whatever the file's size.
PREVIEW_CHARS = 256 * 1024
PREVIEW_ROWS = 20

CHUNK = 64 * 1024
# An XLSX row this wide is read value by value; a wider one by its cells.
NARROW_ROW = 64
ZIP_MAGIC = b"PK\x03\x04"
# The first bytes of what is uploaded by mistake: a screenshot was told to "save it
# as CSV UTF-8" and a zipped export that "the XLSX file cannot be read".
OTHER_KINDS = (
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),  # JPEG
    (b"GIF8", "image"),
    (b"%PDF-", "pdf"),
    (b"\x1f\x8b", "archive"),  # gzip
    (b"Rar!\x1a\x07", "archive"),
    (b"7z\xbc\xaf\x27\x1c", "archive"),
)


class ImportFileError(Exception):
    """The file as a whole cannot be read: nothing is imported."""


@dataclass(frozen=True)
class TextFormat:
    """How a CSV file is read: found once per import run, then every pass over
    the file reads it the same way (detection reads the whole file to check the
    encoding, so it must not be repeated for each pass)."""

    encoding: str
    delimiter: str


def detect_encoding(path: Path, whole: bool = True) -> str:
    """The file's encoding: a BOM says UTF-8 or UTF-16; text that is valid UTF-8
    is UTF-8; else charset-normalizer tells Windows-1251 from KOI8-R by what the
    Cyrillic reads like (guessing one of them read "Кошкин" as "лПЫЛЙО").
    `whole=False` (the preview) checks only the first SAMPLE_BYTES."""
    with path.open("rb") as stream:
        sample = stream.read(SAMPLE_BYTES)

    def decodes(encoding: str) -> bool:
        return _decodes(path, encoding) if whole else _sample_decodes(sample, encoding)

    if sample.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif decodes("utf-8"):
        return "utf-8-sig"
    else:
        # No verdict (a few odd bytes): Windows-1251, if it decodes at all.
        best = from_bytes(sample, cp_isolation=SINGLE_BYTE).best()
        candidates = [best.encoding if best is not None else "cp1251"]
    for encoding in candidates:
        if decodes(encoding):
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


def _sample_decodes(sample: bytes, encoding: str) -> bool:
    # Not final: the sample may end inside a multi-byte character.
    try:
        codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
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


def is_xlsx(path: Path) -> bool:
    """An XLSX workbook is a ZIP archive: told by its first bytes, not its name."""
    with path.open("rb") as stream:
        return stream.read(4) == ZIP_MAGIC


def refuse_other_kinds(path: Path) -> None:
    """Raise ImportFileError naming what the file is when its first bytes say it
    is an image, a PDF or an archive (a ZIP with no workbook inside)."""
    with path.open("rb") as stream:
        head = stream.read(16)
    kind = next((kind for magic, kind in OTHER_KINDS if head.startswith(magic)), None)
    if kind is None and head.startswith(ZIP_MAGIC) and not _holds_workbook(path):
        kind = "archive"
    if kind == "image":
        raise ImportFileError(
            _(
                "This file is an image, not a CSV or XLSX spreadsheet. Upload the "
                "table itself, saved as CSV UTF-8 or XLSX."
            )
        )
    if kind == "pdf":
        raise ImportFileError(
            _(
                "This file is a PDF document, not a CSV or XLSX spreadsheet. Upload "
                "the table itself, saved as CSV UTF-8 or XLSX."
            )
        )
    if kind == "archive":
        raise ImportFileError(
            _(
                "This file is an archive, not a CSV or XLSX spreadsheet. Unpack it "
                "and upload the table inside."
            )
        )


def _holds_workbook(path: Path) -> bool:
    # Only the ZIP's directory is read; a damaged one is left to openpyxl to refuse.
    try:
        with ZipFile(path) as archive:
            return any(name.startswith("xl/") for name in archive.namelist())
    except (BadZipFile, OSError):
        return True


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
            # Sized by its <dimension>, openpyxl pads every row, missing ones too,
            # to the widest: one cell at XFD1048576 in a 5 KB file made a billion
            # empty cells and held the request for hours. Row by row instead.
            sheet.reset_dimensions()
            for line, values in enumerate(sheet.iter_rows(values_only=True), 1):
                row = xlsx_cells(values)
                if row:
                    yield line, row
        finally:
            book.close()


def xlsx_cells(values: tuple) -> list[str]:
    """A row's values as text, without its trailing blank cells.

    openpyxl pads a row with None up to its last cell: a stray cell at XFD on every
    row made 16,384 values a row, and converting and trimming them one by one took
    13 ms a row (py-spy), most of an import's time. Only the cells that are there
    are looked at; the padding is counted and skipped at C speed."""
    if len(values) <= NARROW_ROW:
        row = ["" if value is None else str(value) for value in values]
        while row and not row[-1].strip():
            row.pop()
        return row
    last = len(values) - 1
    cells = len(values) - values.count(None)
    present: list[int] = []
    index = 0
    while len(present) < cells:
        if len(present) == cells - 1 and values[last] is not None:
            index = last  # the padding ends at the row's last cell: no search
        else:
            index = _next_present(values, index)
        present.append(index)
        index += 1
    while present and not str(values[present[-1]]).strip():
        present.pop()
    if not present:
        return []
    row = [""] * (present[-1] + 1)
    for index in present:
        row[index] = str(values[index])
    return row


def _next_present(values: tuple, start: int) -> int:
    """The index of the first value from `start` on that is not None, or
    len(values): a run of None is measured by tuple.count over slices doubling in
    size, then halved down to its end, instead of a Python step per value."""
    end = len(values)
    width = 1
    while start + width <= end and values[start : start + width].count(None) == width:
        width *= 2
    low, high = start + width // 2, min(start + width, end)
    if values[low:high].count(None) == high - low:
        return end
    while high - low > 1:  # values[low:high] holds the first one that is there
        middle = (low + high) // 2
        if values[low:middle].count(None) == middle - low:
            low = middle
        else:
            high = middle
    return low


def text_format(path: Path) -> TextFormat | None:
    """The CSV file's encoding (checked over the whole file) and delimiter; None
    for an XLSX workbook."""
    refuse_other_kinds(path)
    if is_xlsx(path):
        return None
    encoding = detect_encoding(path)
    return TextFormat(encoding, sniff_delimiter(path, encoding))


def read_rows(
    path: Path, text: TextFormat | None = None
) -> Iterator[tuple[int, list[str]]]:
    """The file's rows; `text`: its text_format, when the caller has it."""
    text = text or text_format(path)
    if text is None:
        yield from read_xlsx_rows(path)
        return
    with path.open(encoding=text.encoding, newline="") as stream:
        yield from _csv_rows(stream, text.delimiter)


def read_sample(path: Path) -> list[tuple[int, list[str]]]:
    """The file's first rows (a header and PREVIEW_ROWS more), read from at most
    PREVIEW_CHARS of it: the preview of a file of any size."""
    refuse_other_kinds(path)
    if is_xlsx(path):
        return list(islice(read_xlsx_rows(path), PREVIEW_ROWS + 1))
    encoding = detect_encoding(path, whole=False)
    delimiter = sniff_delimiter(path, encoding)
    with path.open(encoding=encoding, newline="", errors="replace") as stream:
        text = stream.read(PREVIEW_CHARS)
    if len(text) == PREVIEW_CHARS and "\n" in text:
        text = text[: text.rfind("\n") + 1]  # no half row at the cut
    return list(
        islice(_csv_rows(io.StringIO(text, newline=""), delimiter), PREVIEW_ROWS + 1)
    )


def _csv_rows(stream, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The rows, each with the line it starts on: the reader counts to where a
    row ends, and a row with a quoted line break (or an unclosed quote) would be
    reported at a line past the one to look at."""
    reader = csv.reader(stream, delimiter=delimiter)
    start = 1
    try:
        for row in reader:
            # A blank row is skipped; one join, not a strip of each cell.
            text = "".join(row)
            if text and not text.isspace():
                yield start, row
            start = reader.line_num + 1
    except csv.Error as error:
        raise ImportFileError(
            _("The CSV file is broken at line %(line)d: %(error)s")
            % {"line": reader.line_num, "error": csv_error_reason(error)}
        ) from error


def csv_error_reason(error: csv.Error) -> str:
    """The csv module's reason, in the reader's language where we know it. A
    reader that is not strict, over a stream opened with newline="", raises one
    error a file can cause, an oversized field; its message is English."""
    text = str(error)
    if text.startswith("field larger than field limit"):
        return _("a field is longer than %(limit)d characters") % {
            "limit": csv.field_size_limit()
        }
    return text


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
