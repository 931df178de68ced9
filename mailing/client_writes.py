"""Writing many clients of one owner at once: the one writer behind the file
import (mailing.import_jobs) and the API's bulk upsert (mailing.client_upsert).

The rows (checked by mailing.client_rows) are loaded into a temporary table (COPY
on PostgreSQL), then a few set-wise statements do the rest whatever the number of
rows: find the known addresses, update them as the caller chose, insert the new
ones (born suppressed when their address is on the owner's suppression list),
subscribe them all to the target list. When known clients are left as they are
(an import's default), the new ones are subscribed straight from the INSERT's
RETURNING and the known addresses are looked up only if the chunk had any. The
caller owns the transaction.

A row may also carry tags (they replace the client's) and custom attributes (a
patch merged into the client's bag; from an import, typed by
mailing.import_mapping).

What happens to a known client is the caller's choice (`Existing`): leave it,
fill in from the row's non-empty values, or replace its values with the row's,
blanks included. Either way a field the row does not have is never touched.
"""

import hashlib
import json
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from .models import Client, ImportJob, Subscription, Suppression

Existing = ImportJob.Existing
STAGING = "vestnik_client_rows"
UPDATABLE = ("full_name", "comment", "time_zone")
COLUMNS = ("email", *UPDATABLE, "address_hash", "tags", "attributes")
# Tags replace a client's tags; attributes are a patch merged into the client's
# bag, where a null removes the key (JSON merge patch, RFC 7396).
JSON_SQL = {
    "postgresql": {
        "type": "jsonb",
        "list": "'[]'::jsonb",
        "object": "'{}'::jsonb",
        "merge": "jsonb_strip_nulls({bag} || {patch})",
    },
    "sqlite": {
        "type": "text",
        "list": "'[]'",
        "object": "'{}'",
        "merge": "json_patch({bag}, {patch})",
    },
}
CLIENTS = Client._meta.db_table
SUBSCRIPTIONS = Subscription._meta.db_table
SUPPRESSIONS = Suppression._meta.db_table


@dataclass
class Written:
    created: int = 0
    known: int = 0  # already the owner's clients (or just written by another)
    updated: int = 0  # of the known, those whose values changed
    subscribed: int = 0
    ids: dict[str, int] = field(default_factory=dict)  # lower-case email -> id


def write_clients(
    owner_id: int,
    rows: list[dict[str, str]],
    existing: str = Existing.SKIP,
    mailing_list_id: int | None = None,
    with_ids: bool = False,
) -> Written:
    """Create or update these clients (distinct addresses, checked rows) and
    subscribe them to the list; an opt-out on the list is never undone.
    `with_ids`: also each row's client id, by lower-case email."""
    written = Written()
    if not rows:
        return written
    with connection.cursor() as cursor:
        _stage(cursor, rows, existing)
        if existing == Existing.SKIP and not with_ids and _data_modifying_with():
            _insert_and_subscribe(cursor, owner_id, mailing_list_id, written, len(rows))
            written.known = len(rows) - written.created
            return written
        # New first: a known address is one index probe of the insert, and the
        # one lookup afterwards finds every row's client, old or new.
        written.created = _insert_new(cursor, owner_id)
        written.known = len(rows) - written.created
        if existing != Existing.SKIP or mailing_list_id or with_ids:
            _find_clients(cursor, owner_id)
        if existing != Existing.SKIP:
            # A row just inserted holds the row's values already: it does not
            # count as changed (the UPDATE skips rows whose values stay).
            written.updated = _update_known(cursor, existing)
        if mailing_list_id:
            written.subscribed = _subscribe(cursor, mailing_list_id)
        if with_ids:
            cursor.execute(f"SELECT lower(email), client_id FROM {STAGING}")  # nosec
            written.ids = {key: pk for key, pk in cursor.fetchall() if pk}
    return written


def _data_modifying_with() -> bool:
    """Whether an INSERT may feed another in one statement (SQLite's WITH
    allows no INSERT)."""
    return connection.vendor == "postgresql"


def _stage(cursor, rows: list[dict], existing: str = Existing.SKIP) -> None:
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} (email text NOT NULL, "
        "full_name text, comment text, time_zone text, address_hash text NOT NULL, "
        f"tags {_json('type')}, attributes {_json('type')}, client_id bigint)"
    )
    # TRUNCATE, not DELETE: nothing vacuums a temporary table, so deleted rows
    # would stay and every later chunk would scan them again.
    empty = "TRUNCATE" if connection.vendor == "postgresql" else "DELETE FROM"
    cursor.execute(f"{empty} {STAGING}")  # nosec B608 - our own table
    values = (
        [
            row["email"],
            *(row.get(name) for name in UPDATABLE),
            _hash(row["email"]),
            *_extras(row, existing),
        ]
        for row in rows
    )
    names = ", ".join(COLUMNS)
    if connection.vendor == "postgresql":
        with cursor.copy(f"COPY {STAGING} ({names}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
    else:
        marks = ", ".join(["%s"] * len(COLUMNS))
        sql = f"INSERT INTO {STAGING} ({names}) VALUES ({marks})"  # nosec B608
        cursor.executemany(sql, list(values))


def _extras(row: dict, existing: str) -> tuple[str | None, str | None]:
    """The row's tags and attribute patch as JSON, None when it has none. Filling
    in (UPDATE) takes only the non-empty values: no null removes a key."""
    tags, patch = row.get("tags"), row.get("attributes")
    if patch and existing == Existing.UPDATE:
        patch = {key: value for key, value in patch.items() if value is not None}
    return (
        None if tags is None else json.dumps(tags, ensure_ascii=False),
        json.dumps(patch, ensure_ascii=False) if patch else None,
    )


def _json(name: str, **parts) -> str:
    """A JSON expression in this database's dialect."""
    template = JSON_SQL[connection.vendor][name]
    return template.format(**parts) if parts else template


def _hash(email: str) -> str:
    """The suppression list's key (mailing.suppression.address_hash) of an
    address already normalised."""
    return hashlib.sha256(email.lower().encode()).hexdigest()


def _find_clients(cursor, owner_id: int) -> None:
    # One probe of the address index (client_address: lower(email)) per row, the
    # owner checked on the few rows found. `owner_id + 0` keeps the planner off
    # the owner's indexes: during an import the owner's statistics say "a few
    # clients" while they grow by the million, and a scan of all of them per row
    # made the import quadratic.
    cursor.execute(
        f"""UPDATE {STAGING} SET client_id = (
            SELECT c.id FROM {CLIENTS} c
            WHERE lower(c.email) = lower({STAGING}.email)
                AND c.owner_id + 0 = %s)""",  # nosec B608
        [owner_id],
    )


def _update_known(cursor, existing: str) -> int:
    """The known clients' fields from the rows: non-empty values only (UPDATE) or
    every value given (REPLACE). Returns how many changed."""
    if existing == Existing.UPDATE:
        new = {name: f"COALESCE(NULLIF(s.{name}, ''), c.{name})" for name in UPDATABLE}
        new["tags"] = f"COALESCE(NULLIF(s.tags, {_json('list')}), c.tags)"
    else:
        new = {name: f"COALESCE(s.{name}, c.{name})" for name in UPDATABLE}
        new["tags"] = "COALESCE(s.tags, c.tags)"
    merged = _json("merge", bag="c.attributes", patch="s.attributes")
    new["attributes"] = f"COALESCE({merged}, c.attributes)"
    assignments = ", ".join(f"{name} = {value}" for name, value in new.items())
    changed = " OR ".join(f"{value} <> c.{name}" for name, value in new.items())
    cursor.execute(
        f"""UPDATE {CLIENTS} AS c SET {assignments} FROM {STAGING} s
        WHERE c.id = s.client_id AND ({changed})"""  # nosec B608 - fixed names
    )
    return cursor.rowcount


def _insert_new(cursor, owner_id: int) -> int:
    """Insert the addresses the owner has no client with (a known one, or a
    concurrent writer's, wins the conflict). Returns how many were inserted."""
    cursor.execute(*_insert_new_sql(owner_id))
    return cursor.rowcount


def _insert_new_sql(owner_id: int) -> tuple[str, list]:
    """The INSERT of the staged rows as new clients, born suppressed when their
    address is on the owner's suppression list."""
    Reason = Suppression.Reason
    now = timezone.now()
    reasons = [r for r in Reason.values if r != Reason.UNSUBSCRIBE]
    flags = " ".join("WHEN %s THEN %s" for _reason in reasons)
    labels = [value for r in reasons for value in (r, str(Reason(r).label))]
    attributes = _json("merge", bag=_json("object"), patch="s.attributes")
    sql = f"""INSERT INTO {CLIENTS} (owner_id, email, full_name, comment, time_zone,
            tags, attributes, created_at, unsubscribed_at, suppressed_reason)
        SELECT %s, s.email, COALESCE(s.full_name, ''), COALESCE(s.comment, ''),
            COALESCE(s.time_zone, ''), COALESCE(s.tags, {_json("list")}),
            COALESCE({attributes}, {_json("object")}), %s,
            CASE WHEN x.reason = %s THEN %s END,
            CASE x.reason {flags} ELSE '' END
        FROM {STAGING} s LEFT JOIN {SUPPRESSIONS} x
            ON x.owner_id = %s AND x.address_hash = s.address_hash
        WHERE true
        ON CONFLICT DO NOTHING"""  # nosec B608 - fixed names, values are parameters
    return sql, [owner_id, now, Reason.UNSUBSCRIBE, now, *labels, owner_id]


def _insert_and_subscribe(
    cursor, owner_id: int, mailing_list_id: int | None, written: Written, rows: int
) -> None:
    """The import's usual case (known clients left as they are): the new
    clients are subscribed from the insert's own RETURNING, so the staged rows
    are never looked up one by one; only when some address was known are they
    found, and subscribed, by address."""
    if not mailing_list_id:
        written.created = _insert_new(cursor, owner_id)
        return
    insert, parameters = _insert_new_sql(owner_id)
    cursor.execute(
        f"""WITH new AS ({insert} RETURNING id)
        INSERT INTO {SUBSCRIPTIONS} (client_id, mailing_list_id, status, changed_at)
        SELECT id, %s, %s, %s FROM new""",  # nosec B608 - fixed names
        [*parameters, mailing_list_id, Subscription.Status.SUBSCRIBED, timezone.now()],
    )
    # A new client has no subscription yet: one subscription per client inserted.
    written.created = written.subscribed = cursor.rowcount
    if written.created < rows:
        _find_clients(cursor, owner_id)
        written.subscribed += _subscribe(cursor, mailing_list_id)


def _subscribe(cursor, mailing_list_id: int) -> int:
    cursor.execute(
        f"""INSERT INTO {SUBSCRIPTIONS} (client_id, mailing_list_id, status,
            changed_at)
        SELECT client_id, %s, %s, %s FROM {STAGING} WHERE client_id IS NOT NULL
        ON CONFLICT DO NOTHING""",  # nosec B608 - fixed names, values are parameters
        [mailing_list_id, Subscription.Status.SUBSCRIBED, timezone.now()],
    )
    return cursor.rowcount
