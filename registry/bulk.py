"""Bulk writes for 100,000-row batches, without a model instance or a query per row.

Shared infrastructure (the bank intake's loans and reports, the subsidies of a month's
settlements, their audit events), so it lives in the lowest app.

- :func:`bulk_insert`: PostgreSQL ``COPY … FROM STDIN`` (psycopg 3), elsewhere ``executemany``
  in chunks of 2,000 rows.  Values go in as Python objects (Decimal, date, bool, None); the
  driver adapts them exactly as the ORM would.
- :func:`bulk_create_instances`: model instances, ``bulk_create``-like (their ids are set), by
  ``COPY`` with ids reserved from the sequence on PostgreSQL.  Django 5.2's own ``bulk_create``
  sends each column as an array through ``UNNEST``, which Django's client-side parameter binding
  makes psycopg quote element by element in Python (about 0.5 ms per row for rows with JSON).
- :func:`bulk_update_rows`: PostgreSQL ``UPDATE … FROM (VALUES …)`` in chunks of 2,000 rows,
  elsewhere ``executemany`` of one ``UPDATE … WHERE id = ?``.

Both run inside the caller's transaction.  They skip model ``save()`` and signals (so no
django-simple-history rows: the batch, the loan's ``source_batch`` and the audit event are the
record of a bulk intake).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

CHUNK = 2000


def _chunked(rows: Iterable[Sequence[Any]], size: int = CHUNK):
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _columns(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return [fields[n] for n in names]


def _filled(model: type[models.Model], columns: Sequence[str]) -> tuple[list[models.Field], list[Any]]:
    """The concrete fields not in ``columns`` (except an auto pk) and how to fill them: now() for
    auto_now(_add), the field default (a callable is called per row), else NULL."""
    now = timezone.now()
    rest, fillers = [], []
    for f in model._meta.concrete_fields:
        if f.attname in columns or (f.primary_key and isinstance(f, models.AutoField)):
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value: Any = now
            if connection.vendor != "postgresql":
                value = connection.ops.adapt_datetimefield_value(now)
        elif f.has_default():
            value = f.default if callable(f.default) else f.get_default()
        elif f.null:
            value = None
        else:
            value = f.get_default()  # "" for text fields without a default, as the ORM does
            if value is None:
                raise ValueError(f"bulk_insert: {model.__name__}.{f.name} needs a value")
        rest.append(f)
        fillers.append(value)
    return rest, fillers


def _converters(fields: Sequence[models.Field]) -> list[tuple[int, Any]]:
    """(position, field) of the columns whose values the driver cannot take as they are: UUIDs
    (outside PostgreSQL) and JSON; these go through the field's own ``get_db_prep_save``."""
    special = []
    for i, f in enumerate(fields):
        target = f.target_field if f.is_relation else f
        if isinstance(target, models.JSONField) or (
            isinstance(target, models.UUIDField) and connection.vendor != "postgresql"
        ):
            special.append((i, f))
    return special


def _prepared(rows: Iterable[Sequence[Any]], special: list[tuple[int, Any]]) -> Iterable[Sequence[Any]]:
    if not special:
        yield from rows
        return
    for row in rows:
        out = list(row)
        for i, f in special:
            out[i] = f.get_db_prep_save(out[i], connection)
        yield out


def bulk_insert(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order, attnames); other columns get their defaults."""
    rest, fillers = _filled(model, columns)
    fields = _columns(model, columns) + rest
    special = _converters(fields)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    per_row = [i for i, v in enumerate(fillers) if callable(v)]

    def full(row: Sequence[Any]) -> tuple[Any, ...]:
        if not per_row:
            return (*row, *fillers)
        return (*row, *(v() if callable(v) else v for v in fillers))

    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in _prepared(map(full, rows), special):
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608 (quoted model names)
        for chunk in _chunked(rows):
            cursor.executemany(sql, list(_prepared(map(full, chunk), special)))
            count += len(chunk)
    return count


def bulk_update_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Set ``columns`` for each ``(pk, *values)`` in ``rows``."""
    if not rows:
        return 0
    fields = _columns(model, columns)
    pk = model._meta.pk
    rows = list(_prepared(rows, _converters([pk, *fields])))
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with transaction.atomic():  # the temporary table lives until this commits
                _pg_update(cursor, table, pk, fields, rows)
            return len(rows)
        sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
        sql = f"UPDATE {table} SET {sets} WHERE {qn(pk.column)} = %s"  # noqa: S608 (quoted model names)
        for chunk in _chunked(rows):
            cursor.executemany(sql, [(*row[1:], row[0]) for row in chunk])
    return len(rows)


def _pg_update(cursor: Any, table: str, pk: models.Field, fields: list[models.Field], rows: list) -> None:
    """COPY the new values into a temporary table, then one ``UPDATE … FROM`` it."""
    qn = connection.ops.quote_name
    columns = [("pk_", pk.db_type(connection)), *((f.column, f.db_type(connection)) for f in fields)]
    definition = ", ".join(f"{qn(name)} {kind}" for name, kind in columns)
    cursor.execute(f"CREATE TEMPORARY TABLE _bulk_update ({definition}) ON COMMIT DROP")
    with cursor.cursor.copy("COPY _bulk_update FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    sets = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in fields)
    cursor.execute(f"UPDATE {table} AS t SET {sets} FROM _bulk_update AS v WHERE t.{qn(pk.column)} = v.pk_")  # noqa: S608 (quoted model names)
    cursor.execute("DROP TABLE _bulk_update")


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """PostgreSQL: ``count`` primary keys taken from the table's sequence in one query, so rows can
    be copied in with their ids (no look-up afterwards). None elsewhere."""
    if connection.vendor != "postgresql" or count == 0:
        return None
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [connection.ops.quote_name(table), column, count])
        return [row[0] for row in cursor.fetchall()]


COPY_FROM = 50  # fewer rows go through the ORM's INSERT (one round trip, no id reservation)


def bulk_create_instances(objs: Sequence[models.Model]) -> list[models.Model]:
    """Insert unsaved instances of one model and set their primary keys, like ``bulk_create``
    (no ``save()``, no signals).  PostgreSQL: ids reserved in one query, then ``COPY``."""
    if not objs:
        return []
    model = type(objs[0])
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM or not isinstance(model._meta.pk, models.AutoField):
        return model.objects.bulk_create(objs, batch_size=500)
    pk = model._meta.pk
    for obj, new_id in zip(objs, reserve_ids(model, len(objs)), strict=True):
        setattr(obj, pk.attname, new_id)
    now = timezone.now()
    fields = list(model._meta.concrete_fields)
    for obj in objs:
        for f in fields:
            if getattr(f, "auto_now", False) or (getattr(f, "auto_now_add", False) and getattr(obj, f.attname) is None):
                setattr(obj, f.attname, now)
    bulk_insert(model, [f.attname for f in fields], ([getattr(obj, f.attname) for f in fields] for obj in objs))
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias
    return list(objs)
