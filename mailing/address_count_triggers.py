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

ADDRESSES = "mailing_serviceaddress"
COUNTS = "mailing_serviceaddresscount"
CLIENTS = "mailing_client"
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
PG_STATEMENT_TRIGGERS = {
    "insert": ("INSERT", "NEW TABLE AS changed", "1"),
    "delete": ("DELETE", "OLD TABLE AS changed", "-1"),
}
PG_UPDATE_CHANGES = (
    "SELECT lower(NEW.email) AS address, 1 AS delta "
    "UNION ALL SELECT lower(OLD.email), -1"
)


def _pg_function(name: str, changes: str) -> str:
    return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        {PG_APPLY.format(changes=changes)} $$"""


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
    statements = [PG_FOLD]
    for event, (verb, table, delta) in PG_STATEMENT_TRIGGERS.items():
        name = f"mailing_client_addresses_{event}"
        changes = f"SELECT lower(email) AS address, {delta} AS delta FROM changed"  # nosec B608
        statements += [
            _pg_function(name, changes),
            f"""CREATE TRIGGER {name} AFTER {verb} ON {CLIENTS}
            REFERENCING {table} FOR EACH STATEMENT EXECUTE FUNCTION {name}()""",
        ]
    return statements + [
        _pg_function("mailing_client_addresses_update", PG_UPDATE_CHANGES),
        f"""CREATE TRIGGER mailing_client_addresses_update
        AFTER UPDATE OF email ON {CLIENTS} FOR EACH ROW
        WHEN (lower(OLD.email) IS DISTINCT FROM lower(NEW.email))
        EXECUTE FUNCTION mailing_client_addresses_update()""",
        f"""CREATE FUNCTION mailing_client_addresses_truncate() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN {"; ".join(EMPTY)}; RETURN NULL; END $$""",
        f"""CREATE TRIGGER mailing_client_addresses_truncate AFTER TRUNCATE
        ON {CLIENTS} FOR EACH STATEMENT
        EXECUTE FUNCTION mailing_client_addresses_truncate()""",
    ]


PG_TRIGGERS = ["insert", "delete", "update", "truncate"]


def pg_drop_statements() -> list[str]:
    return [
        statement
        for event in PG_TRIGGERS
        for statement in (
            f"DROP TRIGGER IF EXISTS mailing_client_addresses_{event} ON {CLIENTS}",
            f"DROP FUNCTION IF EXISTS mailing_client_addresses_{event}()",
        )
    ] + ["DROP FUNCTION IF EXISTS mailing_client_addresses_fold()"]


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
    return {
        "mailing_client_addresses_insert": f"""CREATE TRIGGER
        mailing_client_addresses_insert
        AFTER INSERT ON {CLIENTS} BEGIN {sqlite_add("NEW")} END""",
        "mailing_client_addresses_delete": f"""CREATE TRIGGER
        mailing_client_addresses_delete
        AFTER DELETE ON {CLIENTS} BEGIN {sqlite_remove("OLD")} END""",
        "mailing_client_addresses_update": f"""CREATE TRIGGER
        mailing_client_addresses_update
        AFTER UPDATE OF email ON {CLIENTS}
        WHEN lower(OLD.email) IS NOT lower(NEW.email)
        BEGIN {sqlite_remove("OLD")} {sqlite_add("NEW")} END""",
    }


def sqlite_statements() -> list[str]:
    return list(sqlite_triggers().values())


def sqlite_drop_statements() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in sqlite_triggers()]


def ensure_sqlite_triggers(sender=None, using="default", **kwargs) -> bool:
    """post_migrate: on SQLite, create the triggers a table rebuild dropped and
    recount when they were missing or the count drifted (a flush empties the
    tables one by one; changes made while the triggers were gone were not
    counted). True if it recounted."""
    from .address_counts import rebuild_addresses, recounted, stored_count
    from .sqlite_triggers import restore_triggers, sqlite_holding

    connection = sqlite_holding(COUNTS, using)
    if connection is None:
        return False
    with connection.cursor() as cursor:
        missing = restore_triggers(cursor, sqlite_triggers())
    if missing or stored_count(using) != recounted(using):
        rebuild_addresses(using)
        return True
    return False
