"""`field__any_of=[ids]`: one array parameter instead of an IN list of many.

Django binds parameters on the client: an IN list of ten thousand ids is ten
thousand values quoted one by one in Python, and psycopg sends an int list as
int4[], which PostgreSQL then cannot hash against a bigint column. As one
bigint[] constant, the database hashes it once and checks each row in constant
time (the Attempts search at ten million rows: 40 ms instead of 2 s).
"""

from django.db.models import BigAutoField, CharField, ForeignKey, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            return "1 = 0", []
        marks = ", ".join(["%s"] * len(self.rhs))
        return f"{lhs} IN ({marks})", [*lhs_params, *self.rhs]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        array = "{" + ",".join(str(value) for value in self.rhs) + "}"
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, array]


class TextAnyOf(Lookup):
    """The same for strings: an import chunk's thousands of addresses or hashes
    (`.alias(key=Lower("email")).filter(key__any_of=keys)`)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            return "1 = 0", []
        marks = ", ".join(["%s"] * len(self.rhs))
        return f"{lhs} IN ({marks})", [*lhs_params, *self.rhs]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::text[])", [*lhs_params, [str(v) for v in self.rhs]]


ForeignKey.register_lookup(AnyOf)
BigAutoField.register_lookup(AnyOf)
CharField.register_lookup(TextAnyOf)
