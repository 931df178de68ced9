"""The triggers that keep mailing.models.ServiceAddress and ServiceAddressCount
(migration 0037), in one place, as mailing.list_count_triggers does for lists:
the migration creates them, and on SQLite `ensure_sqlite_triggers` puts them back
after each migrate (a table rebuild loses its triggers).

PostgreSQL: inserts and deletes of clients are counted by statement-level
triggers reading the transition table (a COPY of a million clients updates each
address once, in address order, so two imports wait for each other instead of
deadlocking); an email's change by a row-level trigger that fires only when the
lower-cased address changes (a bulk update of names costs nothing). TRUNCATE
empties both tables. SQLite has row-level triggers only."""

from .client_count_triggers import CLIENTS, pg_triggers, pg_truncate_statements
from .client_count_triggers import ensure_sqlite_triggers as ensure
from .client_count_triggers import pg_drop_statements as drop_statements
from .client_count_triggers import sqlite_triggers as row_triggers

ADDRESSES = "mailing_serviceaddress"
COUNTS = "mailing_serviceaddresscount"
# How often (1 in N statements that change the number) the appended count rows
# are folded into one: the sum read by the pages stays a few rows.
FOLD_EVERY = 64
# The tables counted afresh from the clients (both empty before).
FILL = [
    f"INSERT INTO {ADDRESSES} (address, holders) SELECT lower(email), "  # nosec B608
    f"count(*) FROM {CLIENTS} GROUP BY lower(email)",
    f"INSERT INTO {COUNTS} (addresses) SELECT count(*) FROM {ADDRESSES}",  # nosec
]

PG_APPLY = f"""DECLARE moved bigint; emptied text[];
BEGIN
    WITH changes AS (
        SELECT address, sum(delta) AS delta FROM ({{changes}}) AS c
        GROUP BY address HAVING sum(delta) <> 0
    ), upserted AS (
        INSERT INTO {ADDRESSES} AS t (address, holders)
        SELECT address, delta FROM changes ORDER BY address
        ON CONFLICT (address) DO UPDATE SET holders = t.holders + EXCLUDED.holders
        RETURNING t.address, t.holders
    )
    SELECT coalesce(sum((u.holders > 0)::int - (u.holders - c.delta > 0)::int), 0),
           array_agg(u.address) FILTER (WHERE u.holders <= 0)
    INTO moved, emptied FROM upserted u JOIN changes c USING (address);
    DELETE FROM {ADDRESSES} WHERE address = ANY(emptied) AND holders <= 0;
    IF moved <> 0 THEN
        INSERT INTO {COUNTS} (addresses) VALUES (moved);
        IF random() < 1.0 / {FOLD_EVERY} THEN
            PERFORM mailing_client_addresses_fold();
        END IF;
    END IF;
    RETURN NULL;
END"""  # nosec B608 - fixed names
EMPTY = [f"DELETE FROM {ADDRESSES}", f"DELETE FROM {COUNTS}"]  # nosec B608
# The count rows folded into one; rows another transaction folds (locked) are
# left to it, so two folds never wait for each other.
PG_FOLD = f"""CREATE FUNCTION mailing_client_addresses_fold() RETURNS void
    LANGUAGE sql AS $$
    WITH folded AS (
        DELETE FROM {COUNTS} WHERE id IN (
            SELECT id FROM {COUNTS} FOR UPDATE SKIP LOCKED
        ) RETURNING addresses
    ) INSERT INTO {COUNTS} (addresses)
    SELECT sum(addresses) FROM folded HAVING count(*) > 0 $$"""  # nosec B608


def pg_statements() -> list[str]:
    return [
        PG_FOLD,
        *pg_triggers(
            "mailing_client_addresses",
            PG_APPLY,
            {"address": "lower({row}email)"},
            "email",
        ),
        *pg_truncate_statements("mailing_client_addresses", EMPTY),
    ]


def pg_drop_statements() -> list[str]:
    return drop_statements(
        "mailing_client_addresses", "mailing_client_addresses_fold()"
    )


def _sqlite_count(delta: int, condition: str) -> str:
    # The SELECT's WHERE also tells SQLite's parser the ON CONFLICT is an upsert.
    return f"""INSERT INTO {COUNTS} (id, addresses) SELECT 1, {delta}
        WHERE {condition} ON CONFLICT (id)
        DO UPDATE SET addresses = addresses + ({delta});"""  # nosec B608 - fixed


def sqlite_add(row: str) -> str:
    held = f"SELECT 1 FROM {ADDRESSES} WHERE address = lower({row}.email)"  # nosec
    return f"""{_sqlite_count(1, f"NOT EXISTS ({held})")}
        INSERT INTO {ADDRESSES} (address, holders) VALUES (lower({row}.email), 1)
        ON CONFLICT (address) DO UPDATE SET holders = holders + 1;"""  # nosec


def sqlite_remove(row: str) -> str:
    this = f"address = lower({row}.email)"
    # A flush empties the tables one by one in no fixed order, and a
    # serialized-rollback test's flush sends no post_migrate to recount: a client
    # deleted after the count rows were emptied must not leave a negative count
    # for the next test (there is a count row whenever an address is held).
    emptied = (
        f"EXISTS (SELECT 1 FROM {ADDRESSES} WHERE {this} AND holders <= 0) "  # nosec B608
        f"AND EXISTS (SELECT 1 FROM {COUNTS})"  # nosec B608 - fixed names
    )
    return f"""UPDATE {ADDRESSES} SET holders = holders - 1 WHERE {this};
        {_sqlite_count(-1, emptied)}
        DELETE FROM {ADDRESSES} WHERE {this} AND holders <= 0;"""  # nosec B608


def sqlite_triggers() -> dict[str, str]:
    """Name -> CREATE TRIGGER statement."""
    return row_triggers(
        "mailing_client_addresses",
        "email",
        "lower(OLD.email) IS NOT lower(NEW.email)",
        sqlite_add,
        sqlite_remove,
    )


def ensure_sqlite_triggers(sender=None, using="default", **kwargs) -> bool:
    """post_migrate: on SQLite, create the triggers a table rebuild dropped and
    recount when they were missing or the counts drifted. True if it recounted."""
    from .address_counts import rebuild_addresses, recounted, stored_count

    return ensure(
        COUNTS, sqlite_triggers(), stored_count, recounted, rebuild_addresses, using
    )
