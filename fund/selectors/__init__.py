"""Reads of the fund app, one module per area; re-exported here for callers."""

from .claims import (
    claim_get,
    claim_list,
    claim_stats,
    claims_review_overdue,
    compensated_loan_ids,
    loan_is_compensated,
    recoveries_refund_overdue,
)
from .ledger import (
    account_balances,
    contributed_capital,
    contributions_by_partner,
    pool_balance,
    pool_summary,
    subsidy_budget_balance,
)
from .leverage import leverage_by_bank, leverage_overall
from .programme import parameters_in_force, partnership_for
from .suspension import loan_risk, registration_allowed

__all__ = [
    "account_balances",
    "claim_get",
    "claim_list",
    "claim_stats",
    "claims_review_overdue",
    "compensated_loan_ids",
    "contributed_capital",
    "contributions_by_partner",
    "leverage_by_bank",
    "leverage_overall",
    "loan_is_compensated",
    "loan_risk",
    "parameters_in_force",
    "partnership_for",
    "pool_balance",
    "pool_summary",
    "recoveries_refund_overdue",
    "registration_allowed",
    "subsidy_budget_balance",
]
