"""What the counts kept by triggers share (on the clients table: the service's
addresses, mailing.address_count_triggers, and each owner's clients,
mailing.owner_count_triggers; on the mailings table: mailing.mailing_count_triggers):
their PostgreSQL triggers' shape, the migration step that installs them, SQLite's
restore after migrate, and the locked refill.

PostgreSQL: inserts and deletes of rows are counted by statement-level triggers
reading the transition table (a COPY of a million clients fires once); a change
of the counted key by a row-level trigger that fires only when the key changes (a
bulk update of names costs nothing). TRUNCATE empties the counts."""

from django.db import connections, migrations, transaction

CLIENTS = "mailing_client"
PG_EVENTS = ["insert", "delete", "update", "truncate"]
PG_TRANSITIONS = {
    "insert": ("INSERT", "NEW TABLE AS changed", 1),
    "delete": ("DELETE", "OLD TABLE AS changed", -1),
}


def pg_triggers(prefix: str, body: str, keys: dict, columns: str, table=CLIENTS):
    """The triggers `prefix`_<event> on `table` and their functions. `body`: the
    PL/pgSQL body given `{changes}`, a query of rows (the `keys`' names, delta);
    `keys`: name -> the counted expression of a row `{row}` (of `columns`)."""

    def function(name: str, changes: str) -> str:
        return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        {body.format(changes=changes)} $$"""

    def named(row: str) -> str:
        return ", ".join(f"{key.format(row=row)} AS {n}" for n, key in keys.items())

    statements = []
    for event, (verb, transition, delta) in PG_TRANSITIONS.items():
        name = f"{prefix}_{event}"
        changes = f"SELECT {named('')}, {delta} AS delta FROM changed"  # nosec B608
        statements += [
            function(name, changes),
            f"""CREATE TRIGGER {name} AFTER {verb} ON {table}
            REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {name}()""",
        ]
    old = ", ".join(key.format(row="OLD.") for key in keys.values())
    new = ", ".join(key.format(row="NEW.") for key in keys.values())
    changes = f"SELECT {named('NEW.')}, 1 AS delta UNION ALL SELECT {old}, -1"
    return statements + [
        function(f"{prefix}_update", changes),
        f"""CREATE TRIGGER {prefix}_update AFTER UPDATE OF {columns} ON {table}
        FOR EACH ROW WHEN (({old}) IS DISTINCT FROM ({new}))
        EXECUTE FUNCTION {prefix}_update()""",
    ]


def pg_truncate_statements(prefix: str, empty: list[str], table=CLIENTS) -> list[str]:
    """A TRUNCATE of `table` empties the counts (`empty`)."""
    return [
        f"""CREATE FUNCTION {prefix}_truncate() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN {"; ".join(empty)}; RETURN NULL; END $$""",
        f"""CREATE TRIGGER {prefix}_truncate AFTER TRUNCATE
        ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_truncate()""",
    ]


def pg_drop_statements(prefix: str, fold: str, table=CLIENTS) -> list[str]:
    """Drop the triggers named `prefix`_<event> and their functions, and `fold`
    (the fold function's signature)."""
    return [
        statement
        for event in PG_EVENTS
        for statement in (
            f"DROP TRIGGER IF EXISTS {prefix}_{event} ON {table}",
            f"DROP FUNCTION IF EXISTS {prefix}_{event}()",
        )
    ] + [f"DROP FUNCTION IF EXISTS {fold}"]


def install(triggers) -> migrations.RunPython:
    """The migration step that creates a triggers module's triggers and fills its
    counts from the clients; reversed, drops the triggers."""

    def add(apps, schema_editor):
        postgres = schema_editor.connection.vendor == "postgresql"
        sqlite = triggers.sqlite_triggers().values()
        for statement in triggers.pg_statements() if postgres else sqlite:
            schema_editor.execute(statement)
        # After the triggers: on PostgreSQL, creating them waited for and now
        # blocks writers of clients until this transaction ends.
        for statement in triggers.FILL:
            schema_editor.execute(statement)

    def drop(apps, schema_editor):
        postgres = schema_editor.connection.vendor == "postgresql"
        sqlite = [f"DROP TRIGGER IF EXISTS {n}" for n in triggers.sqlite_triggers()]
        for statement in triggers.pg_drop_statements() if postgres else sqlite:
            schema_editor.execute(statement)

    return migrations.RunPython(add, drop)


def refill(statements: list[str], stored, using="default", table=CLIENTS) -> bool:
    """Empty and fill the counts (`statements`) while writers of `table` wait;
    True if what `stored(using)` reads was wrong."""
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")  # nosec B608
        was = stored(using)
        for statement in statements:
            cursor.execute(statement)
        return stored(using) != was


def sqlite_triggers(prefix, column, changed, add, remove, table=CLIENTS) -> dict:
    """Name -> CREATE TRIGGER statement of SQLite's row-level triggers on `table`:
    `add(row)` and `remove(row)` are the statements counting a row in or out; an
    update of `column` counts only when `changed` (a condition on OLD and NEW)
    holds."""
    return {
        f"{prefix}_insert": f"""CREATE TRIGGER {prefix}_insert
        AFTER INSERT ON {table} BEGIN {add("NEW")} END""",
        f"{prefix}_delete": f"""CREATE TRIGGER {prefix}_delete
        AFTER DELETE ON {table} BEGIN {remove("OLD")} END""",
        f"{prefix}_update": f"""CREATE TRIGGER {prefix}_update
        AFTER UPDATE OF {column} ON {table} WHEN {changed}
        BEGIN {remove("OLD")} {add("NEW")} END""",
    }


def ensure_sqlite_triggers(
    table, triggers: dict[str, str], stored, recounted, rebuild, using
):
    """On SQLite, create the `triggers` a table rebuild dropped, and `rebuild`
    the counts in `table` when any was missing or the `stored` counts differ
    from the `recounted` ones (a flush empties the tables one by one; changes
    made while the triggers were gone were not counted). True if it rebuilt."""
    from .sqlite_triggers import restore_triggers, sqlite_holding

    connection = sqlite_holding(table, using)
    if connection is None:
        return False
    with connection.cursor() as cursor:
        missing = restore_triggers(cursor, triggers)
    if missing or stored(using) != recounted(using):
        rebuild(using)
        return True
    return False
