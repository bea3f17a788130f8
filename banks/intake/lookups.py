"""``__any_of``: ``field IN (…)`` for large collections, without one placeholder per value.

Pass a set or frozenset (``context.chunks`` yields frozensets): Django walks a list or tuple
right-hand side item by item looking for expressions, which costs time on 50,000 values.

On PostgreSQL it is ``field = ANY(%s)`` with one array parameter: psycopg does not have to splice
thousands of placeholders, and the planner cannot pick a nested loop over a subquery it
under-estimates (fresh rows, stale statistics).  Elsewhere it is a plain ``IN (%s, …)`` — callers
keep lists short there (``context.chunks``).  Registered on every field in ``BanksConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, ForeignObject, Lookup

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
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


def register() -> None:
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(AnyOf)  # relations keep their own lookup table
