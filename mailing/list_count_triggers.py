"""The triggers that keep mailing.models.ListMemberCount (migration 0026), in one
place: the migration creates them, and on SQLite `ensure_sqlite_triggers` puts
them back after each migrate (SQLite rebuilds a table to alter it, and the
rebuilt table has lost its triggers; PostgreSQL alters in place).

PostgreSQL: one statement-level trigger per event, reading the statement's
transition table, so an INSERT ... SELECT of a million subscriptions updates each
count once, not a million times. SQLite has row-level triggers only."""

COUNTS = "mailing_listmembercount"
SUBSCRIPTIONS = "mailing_subscription"
LISTS = "mailing_mailinglist"
UPSERT = f"""INSERT INTO {COUNTS} AS t (mailing_list_id, status, members)
    SELECT mailing_list_id, status, sum(delta) FROM ({{changes}}) AS changes
    GROUP BY mailing_list_id, status HAVING sum(delta) <> 0
    ORDER BY mailing_list_id, status
    ON CONFLICT (mailing_list_id, status)
    DO UPDATE SET members = t.members + EXCLUDED.members"""  # nosec B608 - fixed names
PG_CHANGES = {
    "INSERT": "SELECT mailing_list_id, status, 1 AS delta FROM new_rows",
    "DELETE": "SELECT mailing_list_id, status, -1 AS delta FROM old_rows",
    "UPDATE": "SELECT mailing_list_id, status, 1 AS delta FROM new_rows UNION ALL "
    "SELECT mailing_list_id, status, -1 FROM old_rows",
}
PG_TABLES = {
    "INSERT": "NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
    "UPDATE": "NEW TABLE AS new_rows OLD TABLE AS old_rows",
}


def pg_statements() -> list[str]:
    statements = []
    for event, changes in PG_CHANGES.items():
        name = f"mailing_list_counts_{event.lower()}"
        statements += [
            f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN {UPSERT.format(changes=changes)}; RETURN NULL; END $$""",
            f"""CREATE TRIGGER {name} AFTER {event} ON {SUBSCRIPTIONS}
            REFERENCING {PG_TABLES[event]} FOR EACH STATEMENT
            EXECUTE FUNCTION {name}()""",
        ]
    return statements + [
        f"""CREATE FUNCTION mailing_list_counts_drop() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
        DELETE FROM {COUNTS} WHERE mailing_list_id IN (SELECT id FROM old_lists);
        RETURN NULL; END $$""",  # nosec B608 - fixed names
        f"""CREATE TRIGGER mailing_list_counts_drop AFTER DELETE ON {LISTS}
        REFERENCING OLD TABLE AS old_lists FOR EACH STATEMENT
        EXECUTE FUNCTION mailing_list_counts_drop()""",
    ]


def sqlite_add(row: str, delta: int) -> str:
    return f"""INSERT INTO {COUNTS} (mailing_list_id, status, members)
        VALUES ({row}.mailing_list_id, {row}.status, {delta})
        ON CONFLICT (mailing_list_id, status)
        DO UPDATE SET members = members + ({delta});"""  # nosec B608 - fixed


# A subscription deleted after its list (a flush empties table after table, in no
# fixed order) counts for nothing: its list's counts are gone with the list, and a
# new list that reuses the id (SQLite reuses ids) must start from zero.
OLD_LIST_EXISTS = f"WHEN EXISTS (SELECT 1 FROM {LISTS} WHERE id = OLD.mailing_list_id)"  # nosec B608


def sqlite_triggers() -> dict[str, str]:
    """Name -> CREATE TRIGGER statement."""
    return {
        "mailing_list_counts_insert": f"""CREATE TRIGGER mailing_list_counts_insert
        AFTER INSERT ON {SUBSCRIPTIONS}
        BEGIN {sqlite_add("NEW", 1)} END""",
        "mailing_list_counts_delete": f"""CREATE TRIGGER mailing_list_counts_delete
        AFTER DELETE ON {SUBSCRIPTIONS} {OLD_LIST_EXISTS}
        BEGIN {sqlite_add("OLD", -1)} END""",
        "mailing_list_counts_update": f"""CREATE TRIGGER mailing_list_counts_update
        AFTER UPDATE OF status, mailing_list_id ON {SUBSCRIPTIONS}
        BEGIN {sqlite_add("OLD", -1)} {sqlite_add("NEW", 1)} END""",
        "mailing_list_counts_drop": f"""CREATE TRIGGER mailing_list_counts_drop
        AFTER DELETE ON {LISTS}
        BEGIN DELETE FROM {COUNTS} WHERE mailing_list_id = OLD.id; END""",  # nosec
    }


def sqlite_statements() -> list[str]:
    return list(sqlite_triggers().values())


def ensure_sqlite_triggers(sender=None, using="default", **kwargs) -> bool:
    """post_migrate: on SQLite, forget the counts of lists that are gone, create
    the triggers a table rebuild dropped (or an older version of this module
    made) and recount (changes made meanwhile were not counted). True if any
    trigger was missing or stale."""
    from .list_counts import rebuild_counts
    from .sqlite_triggers import restore_triggers, sqlite_holding

    connection = sqlite_holding(COUNTS, using)
    if connection is None:
        return False
    with connection.cursor() as cursor:
        # Counts of lists that are gone, left by a database whose delete trigger
        # predates OLD_LIST_EXISTS: a new list reusing the id would start from them.
        cursor.execute(
            f"DELETE FROM {COUNTS} WHERE mailing_list_id NOT IN "  # nosec B608
            f"(SELECT id FROM {LISTS})"
        )
        if not restore_triggers(cursor, sqlite_triggers()):
            return False
    rebuild_counts()
    return True
