"""Index operations for big tables: concurrent on PostgreSQL, plain elsewhere.

CREATE/DROP INDEX CONCURRENTLY leave the table writable while an index of
millions of rows is built (a plain CREATE INDEX blocks every write until it
ends); SQLite, the embedded default, has no such thing and gets the plain
operation. A migration using them sets atomic = False (PostgreSQL refuses them
in a transaction).
"""

from django.contrib.postgres.operations import (
    AddIndexConcurrently,
    RemoveIndexConcurrently,
)
from django.db.migrations import AddIndex, RemoveIndex


class _ConcurrentOnPostgreSQL:
    plain: type  # the operation run where there is no concurrent form

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        run = self._chosen(schema_editor, "database_forwards")
        run(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        run = self._chosen(schema_editor, "database_backwards")
        run(app_label, schema_editor, from_state, to_state)

    def _chosen(self, schema_editor, name: str):
        if schema_editor.connection.vendor == "postgresql":
            return getattr(super(), name)
        return getattr(self.plain, name).__get__(self)


class AddIndexWithoutLock(_ConcurrentOnPostgreSQL, AddIndexConcurrently):
    plain = AddIndex


class RemoveIndexWithoutLock(_ConcurrentOnPostgreSQL, RemoveIndexConcurrently):
    plain = RemoveIndex
