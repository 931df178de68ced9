"""mailing_attempt keeps no index that another one already serves: every send
rewrites each index of its row (the status changes, so no update is HOT)."""

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL's catalogue and plans"
    ),
]


def attempt_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'mailing_attempt'"
        )
        return dict(cursor.fetchall())


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_no_index_is_the_leading_column_of_another():
    columns = {
        name: definition.partition("(")[2].rstrip(")").split(", ")
        for name, definition in attempt_indexes().items()
    }
    for name, leading in columns.items():
        for other, its in columns.items():
            if other != name and len(leading) == 1 and its[0] == leading[0]:
                pytest.fail(f"{name} ({leading[0]}) is served by {other}")


@pytest.mark.parametrize("column", ["run_id", "mailing_id", "client_id"])
def test_each_foreign_key_lookup_still_uses_an_index(column):
    # What a join or a cascading delete asks.
    found = plan(f"SELECT id FROM mailing_attempt WHERE {column} = 1")  # noqa: S608

    assert "Index" in found and "Seq Scan" not in found, found
