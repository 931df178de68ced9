"""Indexes that carry PostgreSQL's operator classes, yet migrate on SQLite too.

Django writes an `OpClass` expression verbatim, which SQLite (the embedded default
for development and `make smoke`) cannot parse. Elsewhere than on PostgreSQL the
index is made on the same expressions without their operator classes.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models


class OpClassIndex(models.Index):
    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = models.Index(
            *(
                expression.get_source_expressions()[0]
                if isinstance(expression, OpClass)
                else expression
                for expression in self.expressions
            ),
            name=self.name,
        )
        return plain.create_sql(model, schema_editor, using=using, **kwargs)


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
