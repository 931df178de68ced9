"""The triggers that keep mailing.models.OwnerClientCount (migration 0039), in one
place, as mailing.address_count_triggers does for the service's addresses: the
migration creates them, and on SQLite `ensure_sqlite_triggers` puts them back
after each migrate (a table rebuild loses its triggers).

PostgreSQL: inserts and deletes of clients append one row per owner and
statement, counted from the transition table (a COPY of a million clients adds
one row); an owner's change by a row-level trigger that fires only when the
owner changes. TRUNCATE empties. SQLite has row-level triggers only, and keeps
one row per owner."""

COUNTS = "mailing_ownerclientcount"
CLIENTS = "mailing_client"
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
PG_STATEMENT_TRIGGERS = {
    "insert": ("INSERT", "NEW TABLE AS changed", "1"),
    "delete": ("DELETE", "OLD TABLE AS changed", "-1"),
}
PG_UPDATE_CHANGES = (
    "SELECT NEW.owner_id AS owner_id, 1 AS delta UNION ALL SELECT OLD.owner_id, -1"
)
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


def _pg_function(name: str, changes: str) -> str:
    return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        {PG_APPLY.format(changes=changes)} $$"""


def pg_statements() -> list[str]:
    statements = [PG_FOLD]
    for event, (verb, table, delta) in PG_STATEMENT_TRIGGERS.items():
        name = f"mailing_client_owners_{event}"
        changes = f"SELECT owner_id, {delta} AS delta FROM changed"  # nosec B608
        statements += [
            _pg_function(name, changes),
            f"""CREATE TRIGGER {name} AFTER {verb} ON {CLIENTS}
            REFERENCING {table} FOR EACH STATEMENT EXECUTE FUNCTION {name}()""",
        ]
    return statements + [
        _pg_function("mailing_client_owners_update", PG_UPDATE_CHANGES),
        f"""CREATE TRIGGER mailing_client_owners_update
        AFTER UPDATE OF owner_id ON {CLIENTS} FOR EACH ROW
        WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
        EXECUTE FUNCTION mailing_client_owners_update()""",
        f"""CREATE FUNCTION mailing_client_owners_truncate() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN {"; ".join(EMPTY)}; RETURN NULL; END $$""",
        f"""CREATE TRIGGER mailing_client_owners_truncate AFTER TRUNCATE
        ON {CLIENTS} FOR EACH STATEMENT
        EXECUTE FUNCTION mailing_client_owners_truncate()""",
    ]


PG_TRIGGERS = ["insert", "delete", "update", "truncate"]


def pg_drop_statements() -> list[str]:
    return [
        statement
        for event in PG_TRIGGERS
        for statement in (
            f"DROP TRIGGER IF EXISTS mailing_client_owners_{event} ON {CLIENTS}",
            f"DROP FUNCTION IF EXISTS mailing_client_owners_{event}()",
        )
    ] + ["DROP FUNCTION IF EXISTS mailing_client_owners_fold(bigint[])"]


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
    return {
        "mailing_client_owners_insert": f"""CREATE TRIGGER
        mailing_client_owners_insert
        AFTER INSERT ON {CLIENTS} BEGIN {sqlite_add("NEW")} END""",
        "mailing_client_owners_delete": f"""CREATE TRIGGER
        mailing_client_owners_delete
        AFTER DELETE ON {CLIENTS} BEGIN {sqlite_remove("OLD")} END""",
        "mailing_client_owners_update": f"""CREATE TRIGGER
        mailing_client_owners_update
        AFTER UPDATE OF owner_id ON {CLIENTS}
        WHEN OLD.owner_id IS NOT NEW.owner_id
        BEGIN {sqlite_remove("OLD")} {sqlite_add("NEW")} END""",
    }


def sqlite_statements() -> list[str]:
    return list(sqlite_triggers().values())


def sqlite_drop_statements() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in sqlite_triggers()]


def ensure_sqlite_triggers(sender=None, using="default", **kwargs) -> bool:
    """post_migrate: on SQLite, create the triggers a table rebuild dropped and
    recount when they were missing or a count drifted. True if it recounted."""
    from .owner_client_counts import rebuild_owner_counts, recounted, stored_counts
    from .sqlite_triggers import restore_triggers, sqlite_holding

    connection = sqlite_holding(COUNTS, using)
    if connection is None:
        return False
    with connection.cursor() as cursor:
        missing = restore_triggers(cursor, sqlite_triggers())
    if missing or stored_counts(using) != recounted(using):
        rebuild_owner_counts(using)
        return True
    return False
