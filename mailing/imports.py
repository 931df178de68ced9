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
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock
from itertools import islice
from pathlib import Path
from zipfile import BadZipFile

from charset_normalizer import from_bytes
from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from . import import_kinds
from .import_kinds import is_xlsx
from .import_mapping import LOOKS_LIKE_EMAIL
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
MIDNIGHT = clock()
# What openpyxl and zipfile raise on a damaged sheet while reading it.
DAMAGED_XLSX = (
    ValueError, TypeError, KeyError, IndexError, SyntaxError, EOFError, BadZipFile,
    zlib.error,
)  # fmt: skip


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


def refuse_other_kinds(path: Path) -> None:
    """ImportFileError naming what the file is, when it is no CSV or XLSX table."""
    import_kinds.refuse_other_kinds(path, ImportFileError)


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
            yield from _sheet_rows(sheet)
        finally:
            book.close()


def _sheet_rows(sheet) -> Iterator[tuple[int, list[str]]]:
    """The sheet's non-blank rows; a damaged part (a number cell holding text, a
    broken XML or ZIP stream) is ImportFileError, where it was a server error."""
    line = 0
    try:
        for line, values in enumerate(sheet.iter_rows(values_only=True), 1):
            row = xlsx_cells(values)
            if row:
                yield line, row
    except DAMAGED_XLSX as error:
        raise ImportFileError(
            _(
                "The XLSX file is damaged after row %(line)d and cannot be read. "
                "Open it in Excel or LibreOffice Calc and save it again."
            )
            % {"line": line}
        ) from error


def xlsx_cells(values: tuple) -> list[str]:
    """A row's values as text, without its trailing blank cells.

    openpyxl pads a row with None up to its last cell: a stray cell at XFD on every
    row made 16,384 values a row, and converting and trimming them one by one took
    13 ms a row (py-spy), most of an import's time. Only the cells that are there
    are looked at; the padding is counted and skipped at C speed."""
    if len(values) <= NARROW_ROW:
        row = ["" if value is None else cell_text(value) for value in values]
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
        row[index] = cell_text(values[index])
    return row


def cell_text(value) -> str:
    """A cell as the person sees it: Excel keeps a date as a datetime at
    midnight, whose "2024-01-05 00:00:00" a date field refused."""
    if isinstance(value, datetime) and value.time() == MIDNIGHT:
        return value.date().isoformat()
    return str(value)


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
        rows = list(islice(read_xlsx_rows(path), PREVIEW_ROWS + 1))
        if cell := import_kinds.unsaved_formula(path, rows):
            raise ImportFileError(
                _(
                    "The workbook holds formulas whose results were never saved "
                    "(%(cell)s), so those cells read as empty. Open it in Excel or "
                    "LibreOffice Calc and save it again, then upload it."
                )
                % {"cell": cell}
            )
        return rows
    encoding = detect_encoding(path, whole=False)
    delimiter = sniff_delimiter(path, encoding)
    with path.open(encoding=encoding, newline="", errors="replace") as stream:
        text = stream.read(PREVIEW_CHARS)
    if len(text) == PREVIEW_CHARS and "\n" in text:
        text = text[: text.rfind("\n") + 1]  # no half row at the cut
    return list(
        islice(_csv_rows(io.StringIO(text, newline=""), delimiter), PREVIEW_ROWS + 1)
    )


ENCODING_NAMES = {
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "cp1251": "Windows-1251",
    "koi8_r": "KOI8-R",
}
WORKBOOK_NAMES = (".xlsx", ".xlsm", ".xls", ".ods")


def text_named_as_workbook(
    path: Path, file_name: str, rows: list[tuple[int, list[str]]]
) -> str | None:
    """What to say of a text file with a workbook's name (Excel's "Unicode text"
    saved as clients.xlsx): it is read as CSV, and the person should know; with
    no address in its first rows it is no table of clients (ImportFileError)."""
    if is_xlsx(path) or not file_name.lower().endswith(WORKBOOK_NAMES):
        return None
    encoding = detect_encoding(path, whole=False)
    names = {"name": file_name, "encoding": ENCODING_NAMES.get(encoding, encoding)}
    if not any(LOOKS_LIKE_EMAIL.search(cell) for _line, row in rows for cell in row):
        raise ImportFileError(
            _(
                "“%(name)s” is named like an Excel workbook, but it is a text file "
                "(%(encoding)s) with no email address in its first rows: not a "
                "table of clients. Open the table in Excel and save it as .xlsx "
                "or CSV UTF-8."
            )
            % names
        )
    return (
        _(
            "“%(name)s” is named like an Excel workbook, but it is a text file "
            "(%(encoding)s): it is read as CSV. Check the columns below."
        )
        % names
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
