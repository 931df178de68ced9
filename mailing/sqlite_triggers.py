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


def restore_triggers(cursor, names: list[str], statements: list[str]) -> bool:
    """Create the triggers when any of these names is missing; True if so."""
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    present = {name for (name,) in cursor.fetchall()}
    if present.issuperset(names):
        return False
    for statement in statements:
        cursor.execute(statement)
    return True
