"""Indexes and unique constraints that carry PostgreSQL's operator classes, yet
migrate on SQLite too.

Django writes an `OpClass` expression verbatim, which SQLite (the embedded default
for development and `make smoke`) cannot parse. Elsewhere than on PostgreSQL the
index is made on the same expressions without their operator classes.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models


def without_opclasses(expressions) -> list:
    return [
        expression.get_source_expressions()[0]
        if isinstance(expression, OpClass)
        else expression
        for expression in expressions
    ]


class OpClassIndex(models.Index):
    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = models.Index(*without_opclasses(self.expressions), name=self.name)
        return plain.create_sql(model, schema_editor, using=using, **kwargs)


class OpClassUniqueConstraint(models.UniqueConstraint):
    """A unique index on expressions with operator classes: one index that both
    enforces uniqueness (an operator class such as text_pattern_ops keeps `=`) and
    answers what the operator class is for (LIKE 'prefix%')."""

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor)
        plain = models.UniqueConstraint(
            *without_opclasses(self.expressions), name=self.name
        )
        return plain.create_sql(model, schema_editor)


class JsonContainmentIndex(models.Index):
    """A GIN index for `@>` on a jsonb column (tags, attributes) on PostgreSQL;
    elsewhere (SQLite, which has no GIN) a plain index on the same column, so the
    migration applies everywhere."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            gin = GinIndex(
                fields=self.fields, name=self.name, opclasses=["jsonb_path_ops"]
            )
            return gin.create_sql(model, schema_editor, using=using, **kwargs)
        plain = models.Index(fields=self.fields, name=self.name)
        return plain.create_sql(model, schema_editor, using=using, **kwargs)
