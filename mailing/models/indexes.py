"""Indexes that carry PostgreSQL's operator classes, yet migrate on SQLite too.

Django writes an `OpClass` expression verbatim, which SQLite (the embedded default
for development and `make smoke`) cannot parse. Elsewhere than on PostgreSQL the
index is made on the same expressions without their operator classes.
"""

from django.contrib.postgres.indexes import OpClass
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
