"""The demo data set (interfaces.md: ``load_demo``).

Steps run in order; each is idempotent so ``make run`` can call the command
on every start.  Later steps load the pilot's loans through the same intake
pipeline a bank's upload uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from . import claims, foundation, intake, ledger, snapshot
from . import subsidies as subsidy_demo

Step = Callable[[TextIO], None]

STEPS: list[tuple[str, Step]] = [
    ("programme", foundation.load_programme),
    ("partners", foundation.load_partners),
    ("contributions", ledger.load_contributions),
    ("pilot loans", intake.load_pilot),
    ("loan applications", subsidy_demo.load_pilot_applications),
    ("subsidies and enterprise logins", subsidy_demo.load_subsidies),
    ("claims and recoveries", claims.load_claims),
    # last: the published snapshot freezes everything loaded above (R41)
    ("statistics snapshot", snapshot.build_pilot_snapshot),
]


def run(out: TextIO) -> None:
    for name, step in STEPS:
        out.write(f"· {name}\n")
        step(out)
