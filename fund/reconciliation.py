"""Where other apps plug into the ledger reconciliation (the service is
``fund.services.ledger_reconcile``): ``register_unpaid_source(fn)`` with
``fn(*, as_of) -> Iterable[UnpaidItem]``. See fund/hooks.py."""

from .hooks import UnpaidItem, register_unpaid_source, unpaid_sources, unregister_unpaid_source

__all__ = ["UnpaidItem", "register_unpaid_source", "unpaid_sources", "unregister_unpaid_source"]
