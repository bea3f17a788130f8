"""Writes of the fund app, one module per area; re-exported here for callers."""

from .claim_documents import check_upload, claim_document_add, claim_document_remove, guarantor_payment_record
from .claims import (
    ALLOWED_TRANSITIONS,
    claim_approve,
    claim_close_pursuit,
    claim_create,
    claim_pay,
    claim_reject,
    claim_return,
    claim_start_review,
    claim_submit,
    claim_transition,
    claim_update,
    claims_flag_review_overdue,
)
from .ledger import (
    contribution_record,
    contribution_refund,
    interest_credit,
    journal_reverse,
    pool_pay,
    recovery_refund_receive,
    subsidy_budget_fund,
    subsidy_pay,
)
from .partners import partnership_set_state
from .reconciliation import ledger_reconcile
from .recoveries import recoveries_flag_refund_overdue, recovery_mark_refund_received, recovery_record
from .suspension import suspension_evaluate

__all__ = [
    "ALLOWED_TRANSITIONS",
    "check_upload",
    "claim_approve",
    "claim_close_pursuit",
    "claim_create",
    "claim_document_add",
    "claim_document_remove",
    "claim_pay",
    "claim_reject",
    "claim_return",
    "claim_start_review",
    "claim_submit",
    "claim_transition",
    "claim_update",
    "claims_flag_review_overdue",
    "contribution_record",
    "contribution_refund",
    "guarantor_payment_record",
    "interest_credit",
    "journal_reverse",
    "ledger_reconcile",
    "partnership_set_state",
    "pool_pay",
    "recoveries_flag_refund_overdue",
    "recovery_mark_refund_received",
    "recovery_record",
    "recovery_refund_receive",
    "subsidy_budget_fund",
    "subsidy_pay",
    "suspension_evaluate",
]
