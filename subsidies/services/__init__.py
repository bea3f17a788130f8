"""Writes of the subsidies app, one module per area; re-exported here for callers.

Called by others: ``subsidy_compute_for_settlements`` (bank intake), ``loan_application_decide``
and ``activation_code_issue`` (bank portal, admin).
"""

from .compute import other_subsidy_record, subsidy_compute_for_settlements
from .payments import (
    payment_batch_create,
    payment_batch_export,
    payment_batch_mark_paid,
    payment_batch_remove,
)
from .portal import (
    activation_code_issue,
    enterprise_account_activate,
    loan_application_decide,
    loan_application_submit,
)
from .workflow import (
    ALLOWED_TRANSITIONS,
    subsidy_apply,
    subsidy_document_add,
    subsidy_transition,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "activation_code_issue",
    "enterprise_account_activate",
    "loan_application_decide",
    "loan_application_submit",
    "other_subsidy_record",
    "payment_batch_create",
    "payment_batch_export",
    "payment_batch_mark_paid",
    "payment_batch_remove",
    "subsidy_apply",
    "subsidy_compute_for_settlements",
    "subsidy_document_add",
    "subsidy_transition",
]
