"""What an uploaded file really is, told by its bytes, not its name: people upload
an old .xls, a Word document, a LibreOffice .ods or a screenshot where a table was
asked for, and "the file is not text in a known encoding" told them nothing. Each
kind we cannot read is refused with a message that names it and says what to do.
"""

import struct
from pathlib import Path
from zipfile import BadZipFile, ZipFile

from django.utils.translation import gettext as _
from openpyxl import load_workbook

ZIP_MAGIC = b"PK\x03\x04"
# Microsoft's Compound File (OLE2): Office 97-2003 files and password-protected
# files of any Office version.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
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
# An OLE2 file's streams say which program wrote it.
OLE_STREAMS = {
    "workbook": "xls",
    "book": "xls",  # Excel 5/95
    "worddocument": "doc",
    "encryptedpackage": "encrypted",
    "encryptioninfo": "encrypted",
}
ODF_SPREADSHEET = "application/vnd.oasis.opendocument.spreadsheet"


def is_xlsx(path: Path) -> bool:
    """An XLSX workbook is a ZIP archive: told by its first bytes, not its name."""
    with path.open("rb") as stream:
        return stream.read(4) == ZIP_MAGIC


def refuse_other_kinds(path: Path, error: type[Exception]) -> None:
    """Raise `error` naming what the file is when its bytes say it is not a CSV
    or XLSX table: an image, a PDF, an archive, an old Office or a Word file."""
    with path.open("rb") as stream:
        head = stream.read(16)
    kind = next((kind for magic, kind in OTHER_KINDS if head.startswith(magic)), None)
    if head.startswith(OLE_MAGIC):
        kind = ole_kind(path)
    elif head.startswith(ZIP_MAGIC):
        kind = zip_kind(path)
    if kind is not None and kind != "xlsx":
        raise error(refusal(kind))


def refusal(kind: str) -> str:
    messages = {
        "image": _(
            "This file is an image, not a CSV or XLSX spreadsheet. Upload the "
            "table itself, saved as CSV UTF-8 or XLSX."
        ),
        "pdf": _(
            "This file is a PDF document, not a CSV or XLSX spreadsheet. Upload "
            "the table itself, saved as CSV UTF-8 or XLSX."
        ),
        "archive": _(
            "This file is an archive, not a CSV or XLSX spreadsheet. Unpack it "
            "and upload the table inside."
        ),
        "xls": _(
            "This file is an old Excel workbook (.xls, Excel 97–2003), which "
            "cannot be read here. Open it in Excel or LibreOffice Calc, save it "
            "as an Excel workbook (.xlsx) or as CSV UTF-8, and upload that file."
        ),
        "ods": _(
            "This file is an OpenDocument spreadsheet (.ods), which cannot be "
            "read here. In LibreOffice Calc save it as an Excel workbook (.xlsx) "
            "or as CSV UTF-8, and upload that file."
        ),
        "doc": _(
            "This file is a Word document, not a spreadsheet. If it holds a table "
            "of clients, copy the table into Excel or LibreOffice Calc, save it "
            "as .xlsx or CSV UTF-8, and upload that file."
        ),
        "encrypted": _(
            "This file is protected by a password, so it cannot be read. Open it, "
            "save a copy without the password as .xlsx or CSV UTF-8, and upload "
            "that file."
        ),
        "office": _(
            "This file is an old Microsoft Office file (97–2003), not a "
            "spreadsheet that can be read here. Save the table as .xlsx or "
            "CSV UTF-8 and upload that file."
        ),
    }
    return messages[kind]


def ole_kind(path: Path) -> str:
    """xls, doc, encrypted, or office for another OLE2 file, from the names in
    its first directory sector (where a file's main streams are listed)."""
    with path.open("rb") as stream:
        header = stream.read(512)
        if len(header) < 512:
            return "office"
        shift = struct.unpack_from("<H", header, 30)[0]
        first = struct.unpack_from("<I", header, 48)[0]
        if not 7 <= shift <= 16 or first >= 0xFFFFFFFA:
            return "office"
        stream.seek((first + 1) << shift)
        sector = stream.read(1 << shift)
    for offset in range(0, len(sector) - 127, 128):
        size = struct.unpack_from("<H", sector, offset + 64)[0]
        name = sector[offset : offset + max(0, min(size, 64) - 2)]
        kind = OLE_STREAMS.get(name.decode("utf-16-le", "replace").lower())
        if kind is not None:
            return kind
    return "office"


def zip_kind(path: Path) -> str:
    """xlsx, ods, doc (Word or Writer) or archive, from the ZIP's directory only;
    a damaged one is left to openpyxl to refuse."""
    try:
        with ZipFile(path) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100].decode("ascii", "replace")
                if mimetype == ODF_SPREADSHEET:
                    return "ods"
                if mimetype.startswith("application/vnd.oasis.opendocument.text"):
                    return "doc"
    except (BadZipFile, OSError, KeyError):
        return "xlsx"
    if any(name.startswith("xl/") for name in names):
        return "xlsx"
    if any(name.startswith("word/") for name in names):
        return "doc"
    return "archive"


def unsaved_formula(path: Path, rows: list[tuple[int, list[str]]]) -> str | None:
    """The first of these rows' cells that holds a formula whose result was never
    saved ("C2: =LOWER(B2)"), or None. A program that writes XLSX without
    computing it (openpyxl, many web exports) leaves only the formula, and the
    cell read as empty: a client without an address, or without the name."""
    read = dict(rows)
    with path.open("rb") as stream:
        book = load_workbook(stream, read_only=True, data_only=False)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()
            last = max(read, default=0)
            for cells in sheet.iter_rows(max_row=last):
                for cell in cells:
                    if _unsaved(cell, read):
                        return f"{cell.coordinate}: {str(cell.value)[:80]}"
        finally:
            book.close()
    return None


def _unsaved(cell, read: dict[int, list[str]]) -> bool:
    if getattr(cell, "data_type", None) != "f":
        return False
    row = read.get(cell.row, [])
    return cell.column > len(row) or not row[cell.column - 1]
