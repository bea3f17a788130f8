"""Shared by every rule module: the error type, money quanta and text normalisation."""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

CENT = Decimal("0.01")
RATE_QUANTUM = Decimal("0.0001")


class RuleError(ValueError):
    """A business-rule violation: ``code`` is a short English slug, ``message`` Chinese text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message




_WHITESPACE = re.compile(r"\s+")


def normalize_text(value: str) -> str:
    """Strip all whitespace (incl. U+3000), fold full-width forms to half-width (NFKC), upper-case.

    NFKC runs again at the end so the result is stable: removing a space (``"E ̈"``, from NFKC of
    ``"E¨"``) or upper-casing can leave a sequence that only composes on a second pass.
    """
    text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", str(value)).upper())
    return unicodedata.normalize("NFKC", text)


def _number_to_text(value: object) -> str | None:
    """Digits of an integral number as Excel delivers it (65, 65.0, Decimal); None if not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, float | Decimal) and (not math.isfinite(value) or value != int(value)):
        return ""
    return str(int(value))
