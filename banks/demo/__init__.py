"""The demo data set (interfaces.md: ``load_demo``).

Steps run in order; each is idempotent so ``make run`` can call the command
on every start.  Later steps load the pilot's loans through the same intake
pipeline a bank's upload uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from . import foundation

Step = Callable[[TextIO], None]

STEPS: list[tuple[str, Step]] = [
    ("programme", foundation.load_programme),
    ("partners", foundation.load_partners),
]


def run(out: TextIO) -> None:
    for name, step in STEPS:
        out.write(f"· {name}\n")
        step(out)
