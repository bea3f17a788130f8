"""Pure arithmetic and checks of the programme (no database), one module per area."""

from .parameters import parameter_errors, pool_share_percent

__all__ = ["parameter_errors", "pool_share_percent"]
