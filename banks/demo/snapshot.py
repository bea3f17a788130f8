"""Demo: the published statistics snapshot as of the pilot's cut-off (2022-05-28).

The figures are computed by reporting's own statistics from the data loaded by the earlier
steps; nothing here knows the pilot's published results.  Idempotent: a published snapshot
for the cut-off is built once.  ``reporting`` sits above every app and nothing imports it, so
the demo asks for the snapshot through its management command (interfaces.md), as an operator
would.
"""

from __future__ import annotations

from typing import TextIO

from django.core.management import call_command

from . import foundation, pilot


def build_pilot_snapshot(out: TextIO) -> None:
    cutoff = pilot.PILOT_TARGETS.cutoff
    call_command(
        "build_snapshot", "--as-of", cutoff.isoformat(), "--programme", foundation.PROGRAMME_CODE,
        "--if-missing", stdout=out,
    )
