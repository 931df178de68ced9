"""Creating or updating many clients of one owner at once, by email (the API's bulk
endpoint; integrations send thousands a request).

Each row is checked by the file import's rules (mailing.client_rows) and written by
its writer (mailing.client_writes), a chunk per transaction: a failed chunk leaves
the earlier ones in place. A known client takes the row's values for the fields
the row has (an empty string empties a field); a field left out is never touched.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from .client_rows import FIELDS, RowProblem, clean_client
from .client_writes import Existing, write_clients

CHUNK_SIZE = 1000
MAX_ROWS = 10_000


@dataclass
class UpsertReport:
    created: int = 0
    updated: int = 0
    # (row index, field, message): the row was not written.
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    ids: dict[int, int] = field(default_factory=dict)  # row index -> client id


def clean_row(row) -> dict[str, str]:
    """The row's given fields as stored; RowProblem otherwise."""
    if not isinstance(row, dict):
        raise RowProblem("email", _("Each row must be an object."))
    values = {name: row[name] for name in FIELDS if name in row}
    if not all(isinstance(value, str) for value in values.values()):
        raise RowProblem("email", _("Every field must be text."))
    return clean_client(values)


def upsert_clients(owner, rows: list, mailing_list_id: int | None = None):
    """Write the good rows (and subscribe them to the list); report the others."""
    report = UpsertReport()
    valid: dict[str, tuple[int, dict]] = {}  # lower-case email -> (row index, values)
    for index, row in enumerate(rows):
        try:
            values = clean_row(row)
        except RowProblem as problem:
            report.errors.append((index, problem.field, str(problem)))
            continue
        key = values["email"].lower()
        if key in valid:
            report.errors.append(
                (index, "email", _("The same email is in an earlier row."))
            )
            continue
        valid[key] = (index, values)
    items = list(valid.values())
    for start in range(0, len(items), CHUNK_SIZE):
        chunk = items[start : start + CHUNK_SIZE]
        with transaction.atomic():
            written = write_clients(
                owner.pk,
                [values for _i, values in chunk],
                Existing.REPLACE,
                mailing_list_id,
                with_ids=True,
            )
        report.created += written.created
        report.updated += written.known
        for index, values in chunk:
            report.ids[index] = written.ids[values["email"].lower()]
    return report
