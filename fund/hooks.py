"""Extension points for apps above ``fund`` (claims, subsidies), so fund never imports them.

An app registers its callables once, in its ``AppConfig.ready()``:

    from fund.hooks import register_unpaid_source, UnpaidItem
    register_unpaid_source(approved_unpaid_subsidies)

- unpaid sources: ``fn(*, as_of: date) -> Iterable[UnpaidItem]``: items approved for payment
  and not yet paid; the reconciliation lists those older than its threshold.
- guarantor payout sources: ``fn(*, programme, as_of: date) -> Mapping[int, Decimal]``:
  cumulative payouts made by each guarantor (by guarantor id) on the programme's loans, for
  the R32 compensation rate. Until the claims module registers one, payouts are 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class UnpaidItem:
    """Something approved for payment (a claim, a subsidy) that has not been paid yet."""

    source: str  # e.g. "claims", "subsidies"
    reference: str
    amount: Decimal
    approved_on: date
    programme_code: str = ""
    description: str = ""


UnpaidSource = Callable[..., Iterable[UnpaidItem]]
GuarantorPayoutSource = Callable[..., Mapping[int, Decimal]]

_UNPAID_SOURCES: list[UnpaidSource] = []
_GUARANTOR_PAYOUT_SOURCES: list[GuarantorPayoutSource] = []


def register_unpaid_source(fn: UnpaidSource) -> UnpaidSource:
    """Add a provider of approved-but-unpaid items (idempotent; usable as a decorator)."""
    if fn not in _UNPAID_SOURCES:
        _UNPAID_SOURCES.append(fn)
    return fn


def unregister_unpaid_source(fn: UnpaidSource) -> None:
    if fn in _UNPAID_SOURCES:
        _UNPAID_SOURCES.remove(fn)


def unpaid_sources() -> tuple[UnpaidSource, ...]:
    return tuple(_UNPAID_SOURCES)


def register_guarantor_payout_source(fn: GuarantorPayoutSource) -> GuarantorPayoutSource:
    """Add a provider of cumulative guarantor payouts (idempotent; usable as a decorator)."""
    if fn not in _GUARANTOR_PAYOUT_SOURCES:
        _GUARANTOR_PAYOUT_SOURCES.append(fn)
    return fn


def unregister_guarantor_payout_source(fn: GuarantorPayoutSource) -> None:
    if fn in _GUARANTOR_PAYOUT_SOURCES:
        _GUARANTOR_PAYOUT_SOURCES.remove(fn)


def guarantor_payouts(*, programme: Any, as_of: date) -> dict[int, Decimal]:
    """Cumulative payouts per guarantor id, summed over every registered source (R32)."""
    totals: dict[int, Decimal] = {}
    for source in _GUARANTOR_PAYOUT_SOURCES:
        for guarantor_id, amount in source(programme=programme, as_of=as_of).items():
            totals[guarantor_id] = totals.get(guarantor_id, Decimal("0")) + Decimal(amount)
    return totals
