"""The triggers that keep mailing.models.OwnerClientCount (migration 0039), in one
place, as mailing.address_count_triggers does for the service's addresses: the
migration creates them, and on SQLite `ensure_sqlite_triggers` puts them back
after each migrate (a table rebuild loses its triggers).

PostgreSQL: inserts and deletes of clients append one row per owner and
statement, counted from the transition table (a COPY of a million clients adds
one row); an owner's change by a row-level trigger that fires only when the
owner changes. TRUNCATE empties. SQLite has row-level triggers only, and keeps
one row per owner."""

from .client_count_triggers import CLIENTS, pg_triggers, pg_truncate_statements
from .client_count_triggers import ensure_sqlite_triggers as ensure
from .client_count_triggers import pg_drop_statements as drop_statements
from .client_count_triggers import sqlite_triggers as row_triggers

COUNTS = "mailing_ownerclientcount"
# How often (1 in N statements) an owner's appended rows are folded into one:
# the sum the owner's pages read stays a few rows.
FOLD_EVERY = 16
FILL = [
    f"INSERT INTO {COUNTS} (owner_id, clients) SELECT owner_id, count(*) "  # nosec B608
    f"FROM {CLIENTS} GROUP BY owner_id",
]
EMPTY = [f"DELETE FROM {COUNTS}"]  # nosec B608 - fixed names

PG_APPLY = f"""DECLARE owners bigint[];
BEGIN
    WITH appended AS (
        INSERT INTO {COUNTS} (owner_id, clients)
        SELECT owner_id, sum(delta) FROM ({{changes}}) AS c
        GROUP BY owner_id HAVING sum(delta) <> 0
        RETURNING owner_id
    ) SELECT array_agg(owner_id) INTO owners FROM appended;
    IF owners IS NOT NULL AND random() < 1.0 / {FOLD_EVERY} THEN
        PERFORM mailing_client_owners_fold(owners);
    END IF;
    RETURN NULL;
END"""  # nosec B608 - fixed names
# The owners' rows folded into one each (none when the sum is 0); rows another
# transaction folds (locked) are left to it, so two folds never wait.
PG_FOLD = f"""CREATE FUNCTION mailing_client_owners_fold(owners bigint[])
    RETURNS void LANGUAGE sql AS $$
    WITH folded AS (
        DELETE FROM {COUNTS} WHERE id IN (
            SELECT id FROM {COUNTS} WHERE owner_id = ANY(owners)
            FOR UPDATE SKIP LOCKED
        ) RETURNING owner_id, clients
    ) INSERT INTO {COUNTS} (owner_id, clients)
    SELECT owner_id, sum(clients) FROM folded
    GROUP BY owner_id HAVING sum(clients) <> 0 $$"""  # nosec B608


def pg_statements() -> list[str]:
    return [
        PG_FOLD,
        *pg_triggers(
            "mailing_client_owners", PG_APPLY, {"owner_id": "{row}owner_id"}, "owner_id"
        ),
        *pg_truncate_statements("mailing_client_owners", EMPTY),
    ]


def pg_drop_statements() -> list[str]:
    return drop_statements(
        "mailing_client_owners", "mailing_client_owners_fold(bigint[])"
    )


def sqlite_add(row: str) -> str:
    this = f"owner_id = {row}.owner_id"
    return f"""UPDATE {COUNTS} SET clients = clients + 1 WHERE {this};
        INSERT INTO {COUNTS} (owner_id, clients) SELECT {row}.owner_id, 1
        WHERE NOT EXISTS (SELECT 1 FROM {COUNTS} WHERE {this});"""  # nosec B608


def sqlite_remove(row: str) -> str:
    # Only an existing row is decremented: a flush empties the tables one by one
    # in no fixed order, and a serialized-rollback test's flush sends no
    # post_migrate to recount, so a client deleted after the counts were emptied
    # must not leave a negative count for an owner who reuses the id.
    return f"""UPDATE {COUNTS} SET clients = clients - 1
        WHERE owner_id = {row}.owner_id;"""  # nosec B608 - fixed names


def sqlite_triggers() -> dict[str, str]:
    """Name -> CREATE TRIGGER statement."""
    return row_triggers(
        "mailing_client_owners",
        "owner_id",
        "OLD.owner_id IS NOT NEW.owner_id",
        sqlite_add,
        sqlite_remove,
    )


def ensure_sqlite_triggers(sender=None, using="default", **kwargs) -> bool:
    """post_migrate: on SQLite, create the triggers a table rebuild dropped and
    recount when they were missing or the counts drifted. True if it recounted."""
    from .owner_client_counts import rebuild_owner_counts, recounted, stored_counts

    return ensure(
        COUNTS, sqlite_triggers(), stored_counts, recounted, rebuild_owner_counts, using
    )
