"""What the stored counts' triggers share on SQLite, where a migration that
rebuilds a table drops its triggers (mailing.list_count_triggers,
mailing.address_count_triggers put theirs back after each migrate)."""

from django.db import connections


def sqlite_holding(table: str, using: str = "default"):
    """The connection if it is SQLite's and has the table (migrated), else None."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return None
    return connection if table in connection.introspection.table_names() else None


def restore_triggers(cursor, triggers: dict[str, str]) -> bool:
    """Create each trigger (name -> CREATE TRIGGER) that is missing or differs from
    its statement (an older version); True if any was."""
    cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    present = dict(cursor.fetchall())
    stale = {
        name: statement
        for name, statement in triggers.items()
        if (present.get(name) or "").split() != statement.split()
    }
    for name, statement in stale.items():
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(statement)
    return bool(stale)
