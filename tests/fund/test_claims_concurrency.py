"""R27 on PostgreSQL: 20 threads approve and pay the same claim at once → exactly one payout."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from fund.models import Claim, ClaimStatus, Journal, JournalKind, PoolPayment
from fund.selectors import pool_balance
from fund.services import claim_approve, claim_pay, claim_start_review
from registry.errors import BusinessError
from registry.models import User

from .claims_factories import bureau_team, fund_pool, submitted_claim

THREADS = 20


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_approving_and_paying_one_claim_pay_it_once():
    # given: a claim under review and a funded pool
    claim = submitted_claim(principal=Decimal("1000000.00"))
    fund_pool(claim.programme)
    reviewer, approver, payer = bureau_team()
    claim_start_review(claim=claim, actor=reviewer)
    before = pool_balance(programme=claim.programme)
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            approver_here, payer_here = User.objects.get(pk=approver.pk), User.objects.get(pk=payer.pk)
            mine = Claim.objects.get(pk=claim.pk)
            barrier.wait(timeout=30)
            for call in (lambda: claim_approve(claim=mine, actor=approver_here),
                         lambda: claim_pay(claim=mine, actor=payer_here)):
                try:
                    call()
                    result = "ok"
                except BusinessError as exc:
                    result = exc.code
                with lock:
                    outcomes.append(result)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then: one approval, one payment, one journal; everyone else was refused cleanly
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    assert outcomes.count("ok") == 2
    assert set(outcomes) <= {"ok", "bad_transition"}
    assert len(outcomes) == 2 * THREADS
    assert PoolPayment.objects.filter(programme=claim.programme).count() == 1
    assert Journal.objects.filter(kind=JournalKind.POOL_PAYMENT, programme=claim.programme).count() == 1
    assert pool_balance(programme=claim.programme) == before - Decimal("600000.00")
    assert claim.status_changes.filter(to_status=ClaimStatus.PAID).count() == 1
