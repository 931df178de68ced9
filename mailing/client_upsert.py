"""Creating or updating many clients of one owner at once, by email (the API's bulk
endpoint; integrations send thousands a request).

Each row is checked first (the CSV import's rules, mailing.imports); valid rows are
written a chunk per transaction: a row is one INSERT or one UPDATE, so it is either
written whole or not at all, and a failed chunk leaves the earlier ones in place.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from .addresses import AddressError, normalise_email, normalise_name
from .client_attributes import clean_attributes, clean_tags, declared_fields
from .imports import MAX_COMMENT, MAX_EMAIL
from .models import Client
from .suppression import mark_suppressed
from .zones import validate_time_zone

CHUNK_SIZE = 1000
MAX_ROWS = 10_000
FIELDS = ("email", "full_name", "comment", "time_zone")
UPDATED_FIELDS = ["full_name", "comment", "time_zone", "tags", "attributes"]


@dataclass
class UpsertReport:
    created: int = 0
    updated: int = 0
    # (row index, field, message): the row was not written.
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    ids: dict[int, int] = field(default_factory=dict)  # row index -> client id


def clean_row(row, fields: dict | None = None) -> dict:
    """The row's values as stored; ValidationError by field otherwise. `fields`:
    the owner's declared client fields (key: kind) for the row's attributes."""
    if not isinstance(row, dict):
        raise ValidationError({"email": _("Each row must be an object.")})
    values = {name: row.get(name, "") for name in FIELDS}
    if not all(isinstance(value, str) for value in values.values()):
        raise ValidationError({"email": _("Every field must be text.")})
    if any("\x00" in value for value in values.values()):
        raise ValidationError({"email": _("The row contains a NUL character.")})
    if len(values["email"].strip()) > MAX_EMAIL:
        raise ValidationError({"email": _("The email is too long.")})
    if len(values["comment"]) > MAX_COMMENT:
        raise ValidationError({"comment": _("The comment is too long.")})
    try:
        values["email"] = normalise_email(values["email"])
    except AddressError as error:
        raise ValidationError({"email": str(error)}) from error
    try:
        values["full_name"] = normalise_name(values["full_name"])
    except AddressError as error:
        raise ValidationError({"full_name": str(error)}) from error
    if values["time_zone"]:
        try:
            validate_time_zone(values["time_zone"])
        except ValidationError as error:
            raise ValidationError({"time_zone": error.messages}) from error
    return {**values, **clean_extras(row, fields or {})}


def clean_extras(row: dict, fields: dict) -> dict:
    """Tags (replacing) and attributes (merged; an empty value removes the key),
    only when the row has them."""
    extras = {}
    try:
        if "tags" in row:
            extras["tags"] = clean_tags(row["tags"])
    except ValidationError as error:
        raise ValidationError({"tags": error.messages}) from error
    given = row.get("attributes")
    if given is not None:
        try:
            extras["attributes"] = clean_attributes(0, given, fields)
        except ValidationError as error:
            raise ValidationError({"attributes": error.messages}) from error
        extras["unset"] = [key for key in given if key not in extras["attributes"]]
    return extras


def upsert_clients(owner, rows: list) -> UpsertReport:
    report = UpsertReport()
    valid: dict[str, tuple[int, dict]] = {}  # lower-case email -> (row index, values)
    fields = declared_fields(owner.pk)
    for index, row in enumerate(rows):
        try:
            values = clean_row(row, fields)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                report.errors.append((index, name, " ".join(messages)))
            continue
        key = values["email"].lower()
        if key in valid:
            report.errors.append(
                (index, "email", _("The same email is in an earlier row."))
            )
            continue
        valid[key] = (index, values)
    items = list(valid.items())
    for start in range(0, len(items), CHUNK_SIZE):
        chunk = dict(items[start : start + CHUNK_SIZE])
        try:
            _write_chunk(owner, chunk, report)
        except IntegrityError:
            # A concurrent request inserted one of these emails: it is an update now.
            _write_chunk(owner, chunk, report)
    return report


@transaction.atomic
def _write_chunk(owner, chunk: dict[str, tuple[int, dict]], report) -> None:
    existing = {
        client.email.lower(): client
        for client in Client.objects.select_for_update()
        .annotate(key=Lower("email"))
        .filter(owner=owner, key__in=list(chunk))
    }
    changed, new = [], []
    for key, (index, values) in chunk.items():
        client = existing.get(key)
        unset = values.pop("unset", [])
        if client is None:
            new.append((index, Client(owner=owner, **values)))
            continue
        values["tags"] = values.get("tags", client.tags)
        merged = {**client.attributes, **values.get("attributes", {})}
        values["attributes"] = {k: v for k, v in merged.items() if k not in unset}
        for name in UPDATED_FIELDS:
            setattr(client, name, values[name])
        changed.append(client)
        report.ids[index] = client.pk
    Client.objects.bulk_update(changed, UPDATED_FIELDS)
    created = [client for _index, client in new]
    # bulk_create sends no pre_save: an address on the owner's suppression list is
    # born unsubscribed or suppressed here, as by hand or by import.
    mark_suppressed(created)
    Client.objects.bulk_create(created)
    for index, client in new:
        report.ids[index] = client.pk
    report.updated += len(changed)
    report.created += len(new)
