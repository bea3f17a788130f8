"""PostgreSQL guards of the ledger (hand-written; nothing happens on SQLite).

- Journals, journal lines and pool payments are append-only: a BEFORE UPDATE OR DELETE
  row trigger raises. (TRUNCATE, used only by test-database flushes, is not a row event.)
- Every journal balances: a DEFERRABLE INITIALLY DEFERRED constraint trigger, fired for
  each inserted journal and line, checks at commit that the journal has at least two
  lines and Σ debit = Σ credit.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION fund_ledger_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '总账凭证与分录只能追加，不能修改或删除（表 %，操作 %）', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER fund_journal_immutable BEFORE UPDATE OR DELETE ON fund_journal
    FOR EACH ROW EXECUTE FUNCTION fund_ledger_immutable();
CREATE TRIGGER fund_journalline_immutable BEFORE UPDATE OR DELETE ON fund_journalline
    FOR EACH ROW EXECUTE FUNCTION fund_ledger_immutable();
CREATE TRIGGER fund_poolpayment_immutable BEFORE UPDATE OR DELETE ON fund_poolpayment
    FOR EACH ROW EXECUTE FUNCTION fund_ledger_immutable();

CREATE OR REPLACE FUNCTION fund_journal_check_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    jid bigint;
    total_debit numeric;
    total_credit numeric;
    line_count integer;
BEGIN
    IF TG_TABLE_NAME = 'fund_journal' THEN
        jid := NEW.id;
    ELSE
        jid := NEW.journal_id;
    END IF;
    SELECT COALESCE(SUM(CASE WHEN side = 'D' THEN amount ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN side = 'C' THEN amount ELSE 0 END), 0),
           COUNT(*)
      INTO total_debit, total_credit, line_count
      FROM fund_journalline WHERE journal_id = jid;
    IF line_count < 2 OR total_debit <> total_credit THEN
        RAISE EXCEPTION '凭证 % 借贷不平衡：借方 %，贷方 %，分录 % 条', jid, total_debit, total_credit, line_count
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER fund_journal_balanced AFTER INSERT ON fund_journal
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fund_journal_check_balanced();
CREATE CONSTRAINT TRIGGER fund_journalline_balanced AFTER INSERT ON fund_journalline
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fund_journal_check_balanced();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS fund_journalline_balanced ON fund_journalline;
DROP TRIGGER IF EXISTS fund_journal_balanced ON fund_journal;
DROP FUNCTION IF EXISTS fund_journal_check_balanced();
DROP TRIGGER IF EXISTS fund_poolpayment_immutable ON fund_poolpayment;
DROP TRIGGER IF EXISTS fund_journalline_immutable ON fund_journalline;
DROP TRIGGER IF EXISTS fund_journal_immutable ON fund_journal;
DROP FUNCTION IF EXISTS fund_ledger_immutable();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("fund", "0003_ledger"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
