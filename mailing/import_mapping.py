"""Which column of an imported file goes to which client field.

A mapping is {target: column index}; a column not in it is ignored. Targets are
the built-in fields today; a custom attribute will be a target named
"attribute:<key>" (the segments track's declared attributes), which the same
{target: column} shape holds without a change of format.

Guessed from the first row when it names the columns (Russian or English headers),
else email, name and comment in that order; the person changes it on the preview.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .client_rows import RowProblem, clean_client

TARGETS = {
    "email": gettext_lazy("Email"),
    "full_name": gettext_lazy("Full name"),
    "comment": gettext_lazy("Comment"),
    "time_zone": gettext_lazy("Time zone"),
}
DEFAULT_MAPPING = {"email": 0, "full_name": 1, "comment": 2}
HEADER_WORDS = {
    "email": {"email", "e-mail", "mail", "email address", "почта", "адрес",
              "электронная почта", "эл. почта", "e-mail адрес", "емейл"},
    "full_name": {"name", "full name", "full_name", "fullname", "contact", "имя",
                  "фио", "ф.и.о.", "полное имя", "клиент", "контакт"},
    "comment": {"comment", "comments", "note", "notes", "комментарий",
                "комментарии", "примечание", "заметка"},
    "time_zone": {"time zone", "timezone", "time_zone", "tz", "часовой пояс"},
}  # fmt: skip


def header_target(cell: str) -> str | None:
    words = cell.strip().lower()
    return next((t for t, names in HEADER_WORDS.items() if words in names), None)


def is_header(row: list[str]) -> bool:
    """A first row that names a known field is the file's header, not a client."""
    return any(header_target(cell) for cell in row)


def guess_mapping(first_row: list[str]) -> dict[str, int]:
    if is_header(first_row):
        mapping: dict[str, int] = {}
        for index, cell in enumerate(first_row):
            target = header_target(cell)
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
        target: row[index]
        for target, index in mapping.items()
        if target in TARGETS and index < len(row)
    }


def row_client(row: list[str], mapping: dict[str, int], width: int) -> dict:
    """The client a row stands for, or RowProblem. A row with cells past the
    file's first row has a stray delimiter: its cells would land in the wrong
    fields (empty trailing cells are only a trailing delimiter)."""
    if any(cell.strip() for cell in row[width:]):
        raise RowProblem(
            "email",
            _("Broken row: %(found)d columns where the first row has %(count)d.")
            % {"found": len(row), "count": width},
        )
    return clean_client(values_of(row, mapping))


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


def sample_of(rows: list[tuple[int, list[str]]]) -> Sample:
    if not rows:
        return Sample(None, [], {}, 0)
    first_line, first = rows[0]
    header = first if first_line == 1 and is_header(first) else None
    data = rows[1:] if header is not None else rows
    sample = Sample(header, data, guess_mapping(first), width_of(first))
    for line, row in data:
        try:
            row_client(row, sample.mapping, sample.width)
        except RowProblem as problem:
            sample.problems.append((line, str(problem)))
    return sample
