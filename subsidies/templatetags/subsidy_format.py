"""Money as people in China read it on a statement: 1,234,567.89 (the zh-hans locale has no
thousands separator, so ``floatformat:"2g"`` would print 1234567.89)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    """Decimal, number or numeric string → '1,234,567.89'; anything else unchanged."""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        return value
    return f"{amount:,.2f}"
