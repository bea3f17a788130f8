"""PostgreSQL guards of the ledger: triggers and concurrent payments (R3)."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from fund.models import Journal, JournalLine, PoolPayment
from fund.selectors import pool_balance
from fund.services import pool_pay
from registry.errors import BusinessError
from tests.fund.factories import ProgrammeFactory, fund_pool

pytestmark = pytest.mark.postgres
D = Decimal
DAY = date(2021, 6, 1)


def _raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_raw_sql_cannot_update_or_delete_a_posted_line_or_journal():
    programme = ProgrammeFactory()
    journal = fund_pool(programme, "100.00")
    line = journal.lines.first()
    with pytest.raises(DatabaseError, match="只能追加"):
        _raw("UPDATE fund_journalline SET amount = 1 WHERE id = %s", [line.pk])
    with pytest.raises(DatabaseError, match="只能追加"):
        _raw("DELETE FROM fund_journalline WHERE id = %s", [line.pk])
    with pytest.raises(DatabaseError, match="只能追加"):
        _raw("UPDATE fund_journal SET memo = 'x' WHERE id = %s", [journal.pk])
    with pytest.raises(DatabaseError, match="只能追加"):
        _raw("DELETE FROM fund_journal WHERE id = %s", [journal.pk])
    assert JournalLine.objects.get(pk=line.pk).amount == D("100.00")


@pytest.mark.django_db
def test_an_unbalanced_journal_is_refused_at_commit():
    programme = ProgrammeFactory()
    journal = fund_pool(programme, "100.00")

    def insert_an_extra_line_and_check_as_commit_would():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO fund_journalline (journal_id, account_id, side, amount) VALUES (%s, %s, 'D', 1)",
                [journal.pk, journal.lines.first().account_id],
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(IntegrityError, match="借贷不平衡"):
        insert_an_extra_line_and_check_as_commit_would()
    assert journal.lines.count() == 2


def _in_threads(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads started together; each closes its connection."""
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # the test inspects what each thread got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_strict_payments_pay_exactly_what_the_pool_holds_r3():
    # given: 1,000.00 in the pool; 20 payments of 150.00 → only 6 are affordable
    programme = ProgrammeFactory()
    fund_pool(programme, "1000.00")

    def pay(i: int):
        return pool_pay(programme=programme, amount=D("150.00"), reference=f"C{i}", idempotency_key=f"conc:{i}",
                        actor=None, on=DAY, strict=True)

    # when
    results = _in_threads(20, pay)
    # then
    paid = [r for r in results if isinstance(r, PoolPayment)]
    refused = [r for r in results if isinstance(r, BusinessError)]
    assert len(paid) == 6
    assert len(refused) == 14
    assert all("资金池余额不足" in e.message for e in refused)
    assert pool_balance(programme=programme) == D("1000.00") - 6 * D("150.00")
    assert PoolPayment.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_the_same_payout_requested_twice_concurrently_posts_once():
    programme = ProgrammeFactory()
    fund_pool(programme, "1000.00")

    def pay(_i: int):
        return pool_pay(programme=programme, amount=D("400.00"), reference="C1", idempotency_key="same-claim",
                        actor=None, on=DAY)

    results = _in_threads(2, pay)
    assert all(isinstance(r, PoolPayment) for r in results), results
    assert results[0].pk == results[1].pk
    assert Journal.objects.filter(kind="pool_payment").count() == 1
    assert pool_balance(programme=programme) == D("600.00")
