"""PostgreSQL's own view of a table: its indexes and the plans it makes."""

from django.db import connection


def indexes_of(table: str) -> dict[str, str]:
    """Index name -> its CREATE INDEX statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table]
        )
        return dict(cursor.fetchall())


def plan(sql: str, parameters=()) -> str:
    """The plan, with sequential scans ruled out as far as the planner can."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, parameters)
        return "\n".join(row[0] for row in cursor.fetchall())
