"""Reconciliation: the ``reconcile`` command's exit status, findings, and the unpaid-items hook."""

import contextlib
import logging
from datetime import date
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from fund.hooks import UnpaidItem, register_unpaid_source, unregister_unpaid_source
from fund.models import ReconciliationRun
from fund.services import ledger_reconcile, pool_pay
from fund.tasks import reconcile_ledger
from tests.fund.factories import ProgrammeFactory, fund_pool, fund_subsidy_budget

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def ledger():
    programme = ProgrammeFactory()
    journal = fund_pool(programme, "1000.00")
    fund_subsidy_budget(programme, "100.00")
    pool_pay(programme=programme, amount=D("1500.00"), reference="C1", idempotency_key="p", actor=None,
             on=date(2021, 6, 1))
    return programme, journal


def _exit_status(*args: str) -> int:
    """Run the command as ``manage.py reconcile`` would and return its exit status."""
    from fund.management.commands.reconcile import Command

    # run_from_argv closes every connection when it ends, which would end the test's transaction
    with mock.patch("django.core.management.base.connections.close_all"):
        try:
            Command(stdout=StringIO(), stderr=StringIO()).run_from_argv(["manage.py", "reconcile", *args])
        except SystemExit as exc:
            return int(exc.code)
    return 0


def test_a_clean_ledger_reconciles_with_exit_status_0(ledger):
    out = StringIO()
    call_command("reconcile", stdout=out)
    assert "账实相符" in out.getvalue()
    assert _exit_status() == 0
    run = ReconciliationRun.objects.first()
    assert (run.ok, run.mismatch_count, run.journals_checked) == (True, 0, 3)


class _Undo(Exception):
    """Rolls the injected corruption back (PostgreSQL would refuse it when the test ends)."""


def test_an_unbalanced_journal_makes_the_command_exit_1(ledger, caplog):
    _, journal = ledger
    seen: dict = {}
    with contextlib.suppress(_Undo), transaction.atomic():
        # given: an extra line injected behind the ORM's back (the ledger's own guards refuse this)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO fund_journalline (journal_id, account_id, side, amount) VALUES (%s, %s, 'D', 1)",
                [journal.pk, journal.lines.first().account_id],
            )
        # when
        with caplog.at_level(logging.ERROR, logger="fund.reconciliation"):
            seen["status"] = _exit_status()
        seen["run"] = ReconciliationRun.objects.first()
        with pytest.raises(CommandError) as info:
            call_command("reconcile", stdout=StringIO())
        seen["returncode"] = info.value.returncode
        raise _Undo
    # then
    assert seen["status"] == seen["returncode"] == 1
    assert not seen["run"].ok
    codes = {f["code"] for f in seen["run"].findings}
    assert {"journal_unbalanced", "pool_identity"} <= codes
    assert any("借贷不平衡" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


def test_approved_but_unpaid_items_older_than_the_threshold_are_listed(ledger):
    def source(*, as_of):
        return [
            UnpaidItem(source="claims", reference="CL-1", amount=D("10.00"), approved_on=date(2021, 1, 1)),
            UnpaidItem(source="claims", reference="CL-2", amount=D("10.00"), approved_on=as_of),
        ]

    register_unpaid_source(source)
    try:
        run = ledger_reconcile(as_of=date(2021, 6, 1), unpaid_days=30)
        assert _exit_status("--as-of", "2021-06-01") == 0  # warnings alone do not fail …
        assert _exit_status("--as-of", "2021-06-01", "--fail-on-warnings") == 1  # … unless asked to
    finally:
        unregister_unpaid_source(source)
    assert run.ok
    assert [f["reference"] for f in run.findings] == ["CL-1"]
    assert run.warning_count == 1


def test_the_daily_task_stores_a_run(ledger):
    result = reconcile_ledger.delay().get()
    assert result["ok"] is True
    assert ReconciliationRun.objects.get(pk=result["run_id"]).triggered_by == "task"
    assert reconcile_ledger.name == "fund.tasks.reconcile_ledger"
