"""Foreign keys checked once per statement, for the columns the bank intake writes 100,000 at a time.

A declared foreign key makes PostgreSQL look up the referenced row once per inserted row: a
registration workbook of 100,000 loans meant 100,000 identical checks that the programme
exists, 100,000 that the bank exists, and so on (≈ 1 s of the commit).  For the columns listed
declared with ``db_constraint=False`` (on any model except django-simple-history's historical
copies, whose keys must outlive the rows), triggers keep the same guarantees:

- **insert** (PostgreSQL): one statement-level trigger over the statement's new rows (a
  transition table) refuses the statement if any value is missing;
- **update** of the column: a row trigger, fired only when the value changes;
- **delete** or key change of a referenced row: refused while a row refers to it.

Where a declared key locks each referenced row ``FOR KEY SHARE`` (100,000 row locks for a
status batch), writers here take one transaction-level advisory lock per key, shared, and a
delete of a referenced row takes it exclusively before it looks for referencing rows: so a
delete waits for every writer still open and then sees their rows, and a writer that comes
after a delete sees the row gone.  (Deletes of these rows do not happen in the application —
Django's ``PROTECT`` refuses them first — so they may as well wait.)

A violation raises SQLSTATE 23503 (``foreign_key_violation``), an ``IntegrityError`` in Django,
like a declared key.  The checks are immediate (at the end of the statement), not deferred: the
referenced row must exist first, which every writer here already does.  SQLite gets row
triggers for insert and update (see ``_sqlite_install`` for delete).  Django's
``on_delete=PROTECT`` still refuses ORM deletes first.

The keys are read from the models, and the triggers are (re)installed after every ``migrate``
(post_migrate; skipped when all are present).  On SQLite they are dropped before ``migrate``
(pre_migrate): SQLite rebuilds a table to alter it, which would drop triggers on it and fail on
triggers that name it.  So a migration never has to think about them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,40}")


@dataclass(frozen=True)
class SetForeignKey:
    table: str
    column: str
    ref_table: str
    ref_column: str = "id"

    def __post_init__(self) -> None:
        # Table and column names are spliced into DDL: plain lower-case identifiers only.
        for value in (self.table, self.column, self.ref_table, self.ref_column):
            if not IDENTIFIER.fullmatch(value):
                raise ValueError(f"not a plain identifier: {value!r}")

    @property
    def name(self) -> str:
        return f"setfk_{self.table}_{self.column}"

    @property
    def message(self) -> str:
        return (f'insert or update on table "{self.table}" violates foreign key "{self.name}": '
                f'({self.column}) is not present in table "{self.ref_table}"')

    @property
    def delete_message(self) -> str:
        return f'"{self.ref_table}" row is still referenced from table "{self.table}" ({self.column})'


VERSION = "setfk v2"  # in every PostgreSQL function body: install() replaces older bodies
LOCK_CLASS = 72156  # first key of the two-key advisory locks; the second is hashtext(key name)


def _postgresql_install(fk: SetForeignKey) -> list[str]:
    n, t, c, rt, rc = fk.name, fk.table, fk.column, fk.ref_table, fk.ref_column
    lock = f"{LOCK_CLASS}, hashtext('{n}')"
    return [
        f"""
        CREATE OR REPLACE FUNCTION {n}_ins() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN  -- {VERSION}
            PERFORM pg_advisory_xact_lock_shared({lock});
            IF EXISTS (SELECT 1 FROM new_rows n WHERE n.{c} IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM {rt} r WHERE r.{rc} = n.{c})) THEN
                RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE = '{fk.message}';
            END IF;
            RETURN NULL;
        END $$""",  # noqa: S608 (identifiers checked in SetForeignKey)
        f"""
        CREATE OR REPLACE FUNCTION {n}_upd() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN  -- {VERSION}
            PERFORM pg_advisory_xact_lock_shared({lock});
            PERFORM 1 FROM {rt} r WHERE r.{rc} = NEW.{c};
            IF NOT FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE = '{fk.message}';
            END IF;
            RETURN NULL;
        END $$""",
        f"""
        CREATE OR REPLACE FUNCTION {n}_ref() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN  -- {VERSION}
            PERFORM pg_advisory_xact_lock({lock});
            IF EXISTS (SELECT 1 FROM {t} x WHERE x.{c} = OLD.{rc}) THEN
                RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE = '{fk.delete_message}';
            END IF;
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END $$""",  # noqa: S608 (identifiers checked in SetForeignKey)
        f"CREATE TRIGGER {n}_ins AFTER INSERT ON {t} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {n}_ins()",
        f"CREATE TRIGGER {n}_upd AFTER UPDATE OF {c} ON {t} FOR EACH ROW "
        f"WHEN (NEW.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c}) EXECUTE FUNCTION {n}_upd()",
        f"CREATE TRIGGER {n}_del BEFORE DELETE ON {rt} FOR EACH ROW EXECUTE FUNCTION {n}_ref()",
        f"CREATE TRIGGER {n}_key BEFORE UPDATE OF {rc} ON {rt} FOR EACH ROW "
        f"WHEN (NEW.{rc} IS DISTINCT FROM OLD.{rc}) EXECUTE FUNCTION {n}_ref()",
    ]


def _postgresql_uninstall(fk: SetForeignKey) -> list[str]:
    n = fk.name
    return [
        f"DROP TRIGGER IF EXISTS {n}_ins ON {fk.table}",
        f"DROP TRIGGER IF EXISTS {n}_upd ON {fk.table}",
        f"DROP TRIGGER IF EXISTS {n}_del ON {fk.ref_table}",
        f"DROP TRIGGER IF EXISTS {n}_key ON {fk.ref_table}",
        f"DROP FUNCTION IF EXISTS {n}_ins(), {n}_upd(), {n}_ref()",
    ]


def _sqlite_install(fk: SetForeignKey) -> list[str]:
    """Insert and update of the referencing row only: ``manage.py flush`` (and so every test that
    flushes) empties SQLite tables with DELETE in table order, which a delete trigger on the
    referenced table would refuse.  On SQLite, deleting a row still referenced is refused by the
    ORM (``on_delete=PROTECT``), not by the database."""
    n, t, c, rt, rc = fk.name, fk.table, fk.column, fk.ref_table, fk.ref_column
    missing = f"NEW.{c} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {rt} WHERE {rc} = NEW.{c})"  # noqa: S608
    refused = f"SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: {fk.message.replace(chr(39), '')}');"
    return [
        f"CREATE TRIGGER {n}_ins BEFORE INSERT ON {t} FOR EACH ROW WHEN {missing} BEGIN {refused} END",
        f"CREATE TRIGGER {n}_upd BEFORE UPDATE OF {c} ON {t} FOR EACH ROW WHEN {missing} BEGIN {refused} END",
    ]


def _sqlite_uninstall(fk: SetForeignKey) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {fk.name}_{suffix}" for suffix in SUFFIXES["sqlite"]]


def set_checked_keys() -> list[SetForeignKey]:
    """Every concrete foreign key declared with ``db_constraint=False`` (historical models excepted)."""
    from django.apps import apps
    from simple_history.models import HistoricalChanges

    keys = []
    for model in apps.get_models():
        if issubclass(model, HistoricalChanges) or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.many_to_one and not field.db_constraint:
                target = field.target_field
                keys.append(SetForeignKey(model._meta.db_table, field.column, target.model._meta.db_table,
                                          target.column))
    return sorted(keys, key=lambda k: k.name)


def installed_trigger_names(connection: Any) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'setfk%%'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'setfk%'")
        return {row[0] for row in cursor.fetchall()}


SUFFIXES = {"postgresql": ("ins", "upd", "del", "key"), "sqlite": ("ins", "upd")}


def expected_trigger_names(keys: list[SetForeignKey], vendor: str) -> set[str]:
    return {f"{k.name}_{suffix}" for k in keys for suffix in SUFFIXES[vendor]}


def _current_functions(connection: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'setfk%%' AND prosrc LIKE %s",
                       [f"%{VERSION}%"])
        return cursor.fetchone()[0]


def install(connection: Any) -> None:
    """Create the triggers of every set-checked key (nothing when they are all there)."""
    keys = set_checked_keys()
    if connection.vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"set-checked foreign keys are not written for {connection.vendor}")
    if expected_trigger_names(keys, connection.vendor) <= installed_trigger_names(connection) and (
        connection.vendor != "postgresql" or _current_functions(connection) >= 3 * len(keys)
    ):
        return
    make, drop = ((_postgresql_install, _postgresql_uninstall) if connection.vendor == "postgresql"
                  else (_sqlite_install, _sqlite_uninstall))
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for key in keys:
            for sql in (*drop(key), *make(key)):
                cursor.execute(sql)


def uninstall(connection: Any) -> None:
    """Drop every set-checked key's triggers (SQLite, before migrating)."""
    drop = _postgresql_uninstall if connection.vendor == "postgresql" else _sqlite_uninstall
    present = installed_trigger_names(connection)
    with connection.cursor() as cursor:
        for key in set_checked_keys():
            if expected_trigger_names([key], connection.vendor) & present:
                for sql in drop(key):
                    cursor.execute(sql)


def drop_before_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    if getattr(sender, "name", "") != "registry":
        return
    connection = connections[using]
    if connection.vendor == "sqlite":
        uninstall(connection)


def install_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    if getattr(sender, "name", "") != "registry":
        return
    install(connections[using])
