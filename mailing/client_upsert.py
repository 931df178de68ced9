"""Creating or updating many clients of one owner at once, by email (the API's bulk
endpoint; integrations send thousands a request).

Each row is checked by the file import's rules (mailing.client_rows) and written by
its writer (mailing.client_writes), a chunk per transaction: a failed chunk leaves
the earlier ones in place. A known client takes the row's values for the fields
the row has (an empty string empties a field); a field left out is never touched.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .client_attributes import (
    clean_attributes,
    clean_tags,
    declared_fields,
    tag_list,
)
from .client_rows import FIELDS, RowProblem, clean_client
from .client_writes import Existing, write_clients
from .models import Client

CHUNK_SIZE = 1000
MAX_ROWS = 10_000


@dataclass
class UpsertReport:
    created: int = 0
    updated: int = 0
    # (row index, field, message): the row was not written.
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    ids: dict[int, int] = field(default_factory=dict)  # row index -> client id


def clean_row(row, fields: dict | None = None) -> tuple[dict[str, str], dict]:
    """(the row's given fields as stored, its tags and attributes); RowProblem
    otherwise. `fields`: the owner's declared client fields (key: kind)."""
    if not isinstance(row, dict):
        raise RowProblem("email", _("Each row must be an object."))
    values = {name: row[name] for name in FIELDS if name in row}
    if not all(isinstance(value, str) for value in values.values()):
        raise RowProblem("email", _("Every field must be text."))
    return clean_client(values), clean_extras(row, fields or {})


def clean_extras(row: dict, fields: dict) -> dict:
    """Tags (replacing) and attributes (merged; a null removes the key), only when
    the row has them."""
    extras = {}
    try:
        if "tags" in row:
            extras["tags"] = clean_tags(tag_list(row["tags"]))
    except ValidationError as error:
        raise RowProblem("tags", " ".join(error.messages)) from error
    given = row.get("attributes")
    if given is not None:
        try:
            extras["attributes"] = clean_attributes(0, given, fields)
        except ValidationError as error:
            raise RowProblem("attributes", " ".join(error.messages)) from error
        extras["unset"] = [key for key in given if key not in extras["attributes"]]
    return extras


def apply_extras(owner_id: int, extras: dict[int, dict]) -> None:
    """Tags and attributes of written clients (client id -> extras), in the
    chunk's transaction: the set-wise writer knows only the plain fields."""
    clients = Client.objects.select_for_update().filter(
        owner_id=owner_id, pk__in=list(extras)
    )
    changed = []
    for client in clients:
        extra = extras[client.pk]
        client.tags = extra.get("tags", client.tags)
        merged = {**client.attributes, **extra.get("attributes", {})}
        unset = extra.get("unset", [])
        client.attributes = {k: v for k, v in merged.items() if k not in unset}
        changed.append(client)
    Client.objects.bulk_update(changed, ["tags", "attributes"])


def upsert_clients(owner, rows: list, mailing_list_id: int | None = None):
    """Write the good rows (and subscribe them to the list); report the others."""
    report = UpsertReport()
    valid: dict[str, tuple[int, dict]] = {}  # lower-case email -> (row index, values)
    extras_of: dict[int, dict] = {}  # row index -> tags and attributes given
    fields = declared_fields(owner.pk)
    for index, row in enumerate(rows):
        try:
            values, extras = clean_row(row, fields)
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
        if extras:
            extras_of[index] = extras
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
            ids = {
                index: written.ids[values["email"].lower()] for index, values in chunk
            }
            apply_extras(
                owner.pk,
                {
                    ids[index]: extras_of[index]
                    for index, _v in chunk
                    if index in extras_of
                },
            )
        report.created += written.created
        report.updated += written.known
        report.ids.update(ids)
    return report
