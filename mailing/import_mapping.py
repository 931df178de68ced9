"""Which column of an imported file goes to which client field.

A mapping is {target: column index}; a column not in it is ignored. Targets are
the built-in fields, "tags" (a cell of comma-separated tags) and
"attribute:<key>", one of the owner's declared custom fields (ClientField), whose
cells are parsed by the field's type (mailing.client_attributes).

Guessed from the first row when it names the columns (Russian or English headers,
or a custom field's key or label), else email, name and comment in that order;
the person changes it on the preview.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .client_attributes import clean_tags, clean_value
from .client_rows import RowProblem, clean_client
from .exports import FORMULA_TRIGGERS
from .import_repeats import repeat_reason
from .models import ClientField

TARGETS = {
    "email": gettext_lazy("Email"),
    "full_name": gettext_lazy("Full name"),
    "comment": gettext_lazy("Comment"),
    "time_zone": gettext_lazy("Time zone"),
}
TAGS = "tags"
ATTRIBUTE = "attribute:"
DEFAULT_MAPPING = {"email": 0, "full_name": 1, "comment": 2}
HEADER_WORDS = {
    "email": {"email", "e-mail", "mail", "email address", "почта", "адрес",
              "электронная почта", "эл. почта", "e-mail адрес", "емейл"},
    "full_name": {"name", "full name", "full_name", "fullname", "contact", "имя",
                  "фио", "ф.и.о.", "полное имя", "клиент", "контакт"},
    "comment": {"comment", "comments", "note", "notes", "комментарий",
                "комментарии", "примечание", "заметка"},
    "time_zone": {"time zone", "timezone", "time_zone", "tz", "часовой пояс"},
    TAGS: {"tags", "tag", "labels", "теги", "тег", "метки", "метка"},
}  # fmt: skip
# What a line inside a cell that is really a row has (see swallowed_row).
ROW_DELIMITERS = re.compile(r"[,;\t]")
LOOKS_LIKE_EMAIL = re.compile(r"[^@\s\"]+@[^@\s\"]+\.[^@\s\"]+")
# Rows above the header that may be a title (merged cells over the columns).
TITLE_ROWS = 3
Row = tuple[int, list[str]]
# An owner's declared fields by key: what attribute targets read.
Fields = Mapping[str, ClientField]
NO_FIELDS: Fields = MappingProxyType({})


def owner_fields(owner_id: int) -> dict[str, ClientField]:
    return {f.key: f for f in ClientField.objects.filter(owner_id=owner_id)}


def targets_for(fields: Fields) -> dict[str, str]:
    """What a column may be mapped to: the built-in fields, tags, and each of the
    owner's declared fields."""
    return {
        **TARGETS,
        TAGS: gettext_lazy("Tags (comma-separated)"),
        **{f"{ATTRIBUTE}{key}": f.label for key, f in fields.items()},
    }


def header_target(cell: str, fields: Fields = NO_FIELDS) -> str | None:
    words = cell.strip().lower()
    known = next((t for t, names in HEADER_WORDS.items() if words in names), None)
    return known or next(
        (
            f"{ATTRIBUTE}{key}"
            for key, f in fields.items()
            if words in (key, f.label.strip().lower())
        ),
        None,
    )


def is_header(row: list[str]) -> bool:
    """A first row that names a known field is the file's header, not a client."""
    return any(header_target(cell) for cell in row)


def find_header(rows: list[Row]) -> tuple[int, list[str]] | None:
    """The row that names the columns, with its index: the first row, or one
    under a few title rows that hold no address (a sheet's title over merged
    cells, which left the real header to be refused as an invalid address)."""
    for index, (_line, row) in enumerate(rows[: TITLE_ROWS + 1]):
        if is_header(row):
            return index, row
        if any(LOOKS_LIKE_EMAIL.search(cell) for cell in row):
            return None
    return None


def guess_mapping(first_row: list[str], fields: Fields = NO_FIELDS) -> dict[str, int]:
    if is_header(first_row):
        mapping: dict[str, int] = {}
        for index, cell in enumerate(first_row):
            target = header_target(cell, fields)
            if target and target not in mapping:
                mapping[target] = index
        return mapping
    return dict(DEFAULT_MAPPING)


def width_of(first_row: list[str]) -> int:
    """How many columns a row may have: the header's, or for a file without one
    at least email, name and comment (a first row may leave its last cells out)."""
    if is_header(first_row):
        return len(first_row)
    return max(len(first_row), len(DEFAULT_MAPPING))


def values_of(row: list[str], mapping: dict[str, int]) -> dict[str, str]:
    """The row's cell for each mapped target. A row that ends before a mapped
    column lacks that field (it never blanks a client's value); an empty cell is
    an empty value."""
    return {
        target: unescaped(row[index])
        for target, index in mapping.items()
        if index < len(row)
    }


def unescaped(cell: str) -> str:
    """The cell without the apostrophe our exports put before a formula's first
    character (mailing.exports): a list exported and imported again keeps
    "-Anna" and "=1+1@example.org" as they were."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_TRIGGERS):
        return cell[1:]
    return cell


def row_client(
    row: list[str],
    mapping: dict[str, int],
    width: int | None,
    fields: Fields = NO_FIELDS,
) -> dict:
    """The client a row stands for, or RowProblem. A CSV row with cells past the
    file's first row has a stray delimiter: its cells would land in the wrong
    fields (empty trailing cells are only a trailing delimiter). An XLSX row's
    cells stay in their columns (width None): one past the first row's is in no
    mapped column, and refusing the row for it lost a valid client."""
    if width is not None and any(cell.strip() for cell in row[width:]):
        raise RowProblem(
            "email",
            _("Broken row: %(found)d columns where the first row has %(count)d.")
            % {"found": len(row), "count": width},
        )
    if swallowed := swallowed_row(row):
        raise RowProblem(
            "email",
            _(
                'A quote (") in this row is not closed: the rows after it, from '
                "the one with %(email)s, were read into one cell and not imported. "
                "Close the quote and import them again."
            )
            % {"email": swallowed[:80]},
        )
    cells = values_of(row, mapping)
    client = clean_client({t: v for t, v in cells.items() if t in TARGETS})
    if TAGS in cells:
        client["tags"] = _tags(cells[TAGS])
    patch = _attributes(cells, fields)
    if patch:
        client["attributes"] = patch
    return client


def swallowed_row(row: list[str]) -> str | None:
    """The address that starts a row taken into a cell by an unclosed quote, or
    None. The reader cannot tell such a cell from a quoted multi-line comment; a
    line inside a cell that holds a delimiter and a cell that is an address reads
    as a row of its own, which a comment rarely does."""
    for cell in row:
        if "\n" not in cell and "\r" not in cell:
            continue
        for line in cell.splitlines()[1:]:
            parts = [part.strip() for part in ROW_DELIMITERS.split(line)]
            address = next((p for p in parts if LOOKS_LIKE_EMAIL.fullmatch(p)), None)
            if len(parts) > 1 and address:
                return address
    return None


def _tags(cell: str) -> list[str]:
    try:
        return clean_tags(cell)
    except ValidationError as error:
        raise RowProblem(TAGS, " ".join(error.messages)) from error


def _attributes(cells: dict[str, str], fields: Fields) -> dict:
    """The row's custom fields, typed: {key: value}, or None for an empty cell
    (mailing.client_writes decides whether that empties the client's value).
    A column of a field deleted since the mapping was chosen is ignored."""
    patch = {}
    for target, cell in cells.items():
        declared = fields.get(target.removeprefix(ATTRIBUTE))
        if not target.startswith(ATTRIBUTE) or declared is None:
            continue
        try:
            patch[declared.key] = clean_value(declared.kind, cell)
        except ValidationError as error:
            raise RowProblem(
                target,
                _("“%(field)s”: %(error)s")
                % {"field": declared.label, "error": " ".join(error.messages)},
            ) from error
    return patch


@dataclass
class Sample:
    """What the preview shows: the first rows, the columns, the guessed mapping."""

    header: list[str] | None
    rows: list[tuple[int, list[str]]]
    mapping: dict[str, int]
    width: int
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def column_names(self) -> list[str]:
        names = self.header or []
        return [
            names[i]
            if i < len(names) and names[i].strip()
            else _("Column %d") % (i + 1)
            for i in range(self.width)
        ]

    def column_values(self, limit: int = 3) -> list[list[str]]:
        """Each column's first non-blank values in the sample: what the mapping
        step shows beside the column's name."""
        values: list[list[str]] = [[] for _column in range(self.width)]
        for _line, row in self.rows:
            for column, cell in zip(values, row, strict=False):
                if len(column) < limit and cell.strip():
                    column.append(cell)
        return values


def sample_of(
    rows: list[tuple[int, list[str]]],
    fields: Fields = NO_FIELDS,
    spreadsheet: bool = False,
) -> Sample:
    """`spreadsheet`: the rows are an XLSX sheet's (see row_client)."""
    if not rows:
        return Sample(None, [], {}, 0)
    found = find_header(rows)
    header = found[1] if found else None
    first = header or rows[0][1]
    data = rows[found[0] + 1 :] if found else rows
    sample = Sample(header, data, guess_mapping(first, fields), width_of(first))
    checked_width = None if spreadsheet else sample.width
    first_lines: dict[str, int] = {}
    for line, row in data:
        try:
            email = row_client(row, sample.mapping, checked_width, fields)["email"]
        except RowProblem as problem:
            sample.problems.append((line, str(problem)))
            continue
        first = first_lines.setdefault(email.lower(), line)
        if first != line:
            sample.problems.append((line, repeat_reason(email, first)))
    return sample
