"""Pure arithmetic and checks of the programme (no database), one module per area."""

from .claims import (
    add_working_days,
    claim_calculation,
    claim_filing_errors,
    net_recovery,
    recovery_refund,
    required_document_kinds,
    working_days_between,
)
from .ledger import lines_balanced, lowest_balance_from, money, normal_balance, pool_payable
from .leverage import LeverageFigures, leverage_figures, straight_line_expected
from .parameters import parameter_errors, pool_share_percent
from .suspension import (
    CooperationDecision,
    bank_suspension_reasons,
    cooperation_decision,
    guarantor_suspension_reasons,
    programme_stop_reasons,
    rate_percent,
)

__all__ = [
    "CooperationDecision",
    "LeverageFigures",
    "add_working_days",
    "bank_suspension_reasons",
    "claim_calculation",
    "claim_filing_errors",
    "cooperation_decision",
    "guarantor_suspension_reasons",
    "leverage_figures",
    "lines_balanced",
    "lowest_balance_from",
    "money",
    "net_recovery",
    "normal_balance",
    "parameter_errors",
    "pool_payable",
    "pool_share_percent",
    "programme_stop_reasons",
    "rate_percent",
    "recovery_refund",
    "required_document_kinds",
    "straight_line_expected",
    "working_days_between",
]
