"""R38 "paid exactly once" under concurrency (PostgreSQL row locks)."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from fund.models import Journal
from fund.services import subsidy_budget_fund
from registry import roles
from registry.errors import BusinessError
from subsidies import services
from subsidies.models import BatchStatus, PaymentBatch, SubsidyStatus
from tests.factories import UserFactory

from .factories import OPEN_WINDOW, EnterpriseUserFactory, ProgrammeFactory, SettledLoanFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_people_paying_the_same_batch_at_once_post_it_once():
    # given: an approved subsidy in an open batch, a funded budget, two payers
    programme = ProgrammeFactory(**OPEN_WINDOW)
    loan = SettledLoanFactory(programme=programme)
    owner = EnterpriseUserFactory(enterprise=loan.enterprise)
    handler = UserFactory(username="c_handler", role=roles.HANDLER)
    approver = UserFactory(username="c_approver", role=roles.APPROVER)
    payers = [UserFactory(username=f"c_payer{i}", role=roles.ADMINISTRATOR) for i in range(2)]
    (subsidy,) = services.subsidy_compute_for_settlements(loans=[loan])
    services.subsidy_apply(subsidy=subsidy, actor=owner, payee_name="企业", payee_bank="银行", payee_account="62220000")
    services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.UNDER_REVIEW, actor=handler)
    services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.APPROVED, actor=approver)
    batch = services.payment_batch_create(programme=programme, actor=handler)
    subsidy_budget_fund(programme=programme, amount=Decimal("1000000"), on=date(2022, 1, 1), idempotency_key="b",
                        actor=payers[0])

    # when
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def pay(payer, voucher):
        try:
            barrier.wait()
            services.payment_batch_mark_paid(batch=PaymentBatch.objects.get(pk=batch.pk), voucher_reference=voucher,
                                             paid_on=date(2022, 7, 1), actor=payer)
            outcomes.append("paid")
        except BusinessError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(p, f"GK-{i}")) for i, p in enumerate(payers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then
    assert sorted(outcomes) == ["already_paid", "paid"]
    assert Journal.objects.filter(idempotency_key=f"subsidy:{subsidy.pk}").count() == 1
    assert PaymentBatch.objects.get(pk=batch.pk).status == BatchStatus.PAID
