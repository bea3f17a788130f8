"""PostgreSQL: the audit tables are append-only for the application.

UPDATE and DELETE on registry_domainevent raise, except a DELETE of a row older than six
months inside a transaction that ran ``SET LOCAL fundpool.allow_audit_prune = 'on'`` (the
retention job, ``manage.py prune_audit_events``).  registry_auditchainanchor allows no UPDATE
or DELETE at all.  TRUNCATE is left to database privileges (docs/security.md): test runners
empty tables with it.  Nothing happens on SQLite.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION registry_domainevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('fundpool.allow_audit_prune', true) = 'on'
       AND OLD.occurred_at < now() - interval '6 months' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '审计事件只能追加：不允许 % registry_domainevent (id=%)', TG_OP, OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS registry_domainevent_append_only ON registry_domainevent;
CREATE TRIGGER registry_domainevent_append_only
    BEFORE UPDATE OR DELETE ON registry_domainevent
    FOR EACH ROW EXECUTE FUNCTION registry_domainevent_append_only();

CREATE OR REPLACE FUNCTION registry_auditchainanchor_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '审计链锚点只能追加：不允许 % registry_auditchainanchor (id=%)', TG_OP, OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS registry_auditchainanchor_append_only ON registry_auditchainanchor;
CREATE TRIGGER registry_auditchainanchor_append_only
    BEFORE UPDATE OR DELETE ON registry_auditchainanchor
    FOR EACH ROW EXECUTE FUNCTION registry_auditchainanchor_append_only();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS registry_domainevent_append_only ON registry_domainevent;
DROP FUNCTION IF EXISTS registry_domainevent_append_only();
DROP TRIGGER IF EXISTS registry_auditchainanchor_append_only ON registry_auditchainanchor;
DROP FUNCTION IF EXISTS registry_auditchainanchor_append_only();
"""


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)  # no parameters: the % in RAISE stay literal

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0004_audit_chain_backfill"),
    ]

    operations = [
        migrations.RunPython(_on_postgres(FORWARD), _on_postgres(BACKWARD)),
    ]
