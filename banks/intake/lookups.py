"""``__any_of``: ``field IN (…)`` for large collections, without one placeholder per value.

Pass a set or frozenset (``context.chunks`` yields frozensets): Django walks a list or tuple
right-hand side item by item looking for expressions, which costs time on 50,000 values.

On PostgreSQL it is ``field = ANY(string_to_array(%s, …))`` with the values joined into one text
parameter: psycopg does not have to splice thousands of placeholders, and the planner cannot
pick a nested loop over a subquery it under-estimates (fresh rows, stale statistics).  One text
rather than an array parameter because Django binds parameters client-side, where psycopg quotes
an array element by element in Python (about 2 s per 100,000 values; one string is quoted by
libpq in microseconds).  A value containing the separator falls back to an array parameter.  Elsewhere it is a plain ``IN (%s, …)`` — callers
keep lists short there (``context.chunks``).  Registered on every field in ``BanksConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, ForeignObject, Lookup

SEPARATOR = "\x1f"  # ASCII unit separator: never in a code, contract number or name the rules accept
_AS_IS = {"CharField", "TextField", "IntegerField", "BigIntegerField", "AutoField", "BigAutoField",
          "PositiveIntegerField", "SmallIntegerField"}  # values the driver takes unchanged


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[Any]:
        return list(self.rhs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        target = field.target_field if field.is_relation else field
        if target.get_internal_type() in _AS_IS:
            values = list(self.rhs)
        else:
            values = [field.get_db_prep_value(v, connection, prepared=False) for v in self.rhs]
        if not values:
            return "1 = 0", []
        if connection.vendor == "postgresql":
            if all(type(v) is int for v in values):
                return f"{lhs} = ANY(string_to_array(%s, ',')::bigint[])", [*lhs_params, ",".join(map(str, values))]
            if all(type(v) is str and SEPARATOR not in v for v in values):
                return f"{lhs} = ANY(string_to_array(%s, %s))", [*lhs_params, SEPARATOR.join(values), SEPARATOR]
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


def register() -> None:
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(AnyOf)  # relations keep their own lookup table
