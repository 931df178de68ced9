"""The triggers that keep mailing.models.MailingCount (migration 0042), in one
place, as mailing.owner_count_triggers does for the owners' clients: the
migration creates them, and on SQLite `ensure_sqlite_triggers` puts them back
after each migrate (a table rebuild loses its triggers).

Each change appends a row per owner and status and one per status for the whole
service (owner NULL). PostgreSQL: inserts and deletes of mailings counted by
statement-level triggers from the transition table; a change of owner or status
by a row-level trigger that fires only when one of them changes (saving a
mailing's name or next send costs nothing). TRUNCATE empties. SQLite has
row-level triggers only, and keeps one row per owner and status."""

from .client_count_triggers import ensure_sqlite_triggers as ensure
from .client_count_triggers import pg_drop_statements as drop_statements
from .client_count_triggers import pg_triggers, pg_truncate_statements
from .client_count_triggers import sqlite_triggers as row_triggers

MAILINGS = "mailing_mailing"
COUNTS = "mailing_mailingcount"
PREFIX = "mailing_mailing_counts"
# How often (1 in N statements) the appended rows of the owners changed and of
# the whole service are folded: the sums the pages read stay a few rows.
FOLD_EVERY = 16
FILL = [
    f"INSERT INTO {COUNTS} (owner_id, status, mailings) "  # nosec B608 - fixed names
    f"SELECT owner_id, status, count(*) FROM {MAILINGS} GROUP BY owner_id, status",
    f"INSERT INTO {COUNTS} (owner_id, status, mailings) "  # nosec B608 - fixed names
    f"SELECT NULL, status, count(*) FROM {MAILINGS} GROUP BY status",
]
EMPTY = [f"DELETE FROM {COUNTS}"]  # nosec B608 - fixed names

# The grouping set (status) is the whole service's row (owner_id NULL there).
PG_APPLY = f"""DECLARE owners bigint[];
BEGIN
    WITH appended AS (
        INSERT INTO {COUNTS} (owner_id, status, mailings)
        SELECT owner_id, status, sum(delta) FROM ({{changes}}) AS c
        GROUP BY GROUPING SETS ((owner_id, status), (status))
        HAVING sum(delta) <> 0
        RETURNING owner_id
    ) SELECT array_agg(owner_id) INTO owners FROM appended;
    IF owners IS NOT NULL AND random() < 1.0 / {FOLD_EVERY} THEN
        PERFORM {PREFIX}_fold(owners);
    END IF;
    RETURN NULL;
END"""  # nosec B608 - fixed names
# The owners' rows and the service's folded into one per status (none when the
# sum is 0); rows another transaction folds (locked) are left to it.
PG_FOLD = f"""CREATE FUNCTION {PREFIX}_fold(owners bigint[])
    RETURNS void LANGUAGE sql AS $$
    WITH folded AS (
        DELETE FROM {COUNTS} WHERE id IN (
            SELECT id FROM {COUNTS}
            WHERE owner_id = ANY(owners) OR owner_id IS NULL
            FOR UPDATE SKIP LOCKED
        ) RETURNING owner_id, status, mailings
    ) INSERT INTO {COUNTS} (owner_id, status, mailings)
    SELECT owner_id, status, sum(mailings) FROM folded
    GROUP BY owner_id, status HAVING sum(mailings) <> 0 $$"""  # nosec B608
KEYS = {"owner_id": "{row}owner_id", "status": "{row}status"}


def pg_statements() -> list[str]:
    return [
        PG_FOLD,
        *pg_triggers(PREFIX, PG_APPLY, KEYS, "owner_id, status", MAILINGS),
        *pg_truncate_statements(PREFIX, EMPTY, MAILINGS),
    ]


def pg_drop_statements() -> list[str]:
    return drop_statements(PREFIX, f"{PREFIX}_fold(bigint[])", MAILINGS)


def _sqlite_count(owner: str, row: str, delta: str) -> str:
    this = f"owner_id IS {owner} AND status = {row}.status"
    return f"""UPDATE {COUNTS} SET mailings = mailings {delta} WHERE {this};"""  # nosec


def _sqlite_insert(owner: str, row: str) -> str:
    this = f"owner_id IS {owner} AND status = {row}.status"
    return f"""INSERT INTO {COUNTS} (owner_id, status, mailings)
        SELECT {owner}, {row}.status, 1
        WHERE NOT EXISTS (SELECT 1 FROM {COUNTS} WHERE {this});"""  # nosec B608


def sqlite_add(row: str) -> str:
    return "".join(
        _sqlite_count(owner, row, "+ 1") + _sqlite_insert(owner, row)
        for owner in (f"{row}.owner_id", "NULL")
    )


def sqlite_remove(row: str) -> str:
    # Only existing rows are decremented (see owner_count_triggers.sqlite_remove:
    # a flush empties the tables in no fixed order).
    return "".join(
        _sqlite_count(owner, row, "- 1") for owner in (f"{row}.owner_id", "NULL")
    )


def sqlite_triggers() -> dict[str, str]:
    """Name -> CREATE TRIGGER statement."""
    return row_triggers(
        PREFIX,
        "owner_id, status",
        "(OLD.owner_id IS NOT NEW.owner_id OR OLD.status IS NOT NEW.status)",
        sqlite_add,
        sqlite_remove,
        MAILINGS,
    )


def ensure_sqlite_triggers(sender=None, using="default", **kwargs) -> bool:
    """post_migrate: on SQLite, create the triggers a table rebuild dropped and
    recount when they were missing or the counts drifted. True if it recounted."""
    from .mailing_counts import rebuild_mailing_counts, recounted, stored_counts

    return ensure(
        COUNTS,
        sqlite_triggers(),
        stored_counts,
        recounted,
        rebuild_mailing_counts,
        using,
    )
