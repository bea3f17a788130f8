"""Demo: the published statistics snapshot as of the pilot's cut-off (2022-05-28).

The figures are computed by reporting's own statistics from the data loaded by the earlier
steps; nothing here knows the pilot's published results.  Idempotent: a published snapshot
for the cut-off is built once.
"""

from __future__ import annotations

from typing import TextIO

from . import foundation, pilot


def build_pilot_snapshot(out: TextIO) -> None:
    # reporting sits above banks; the demo is the one place that drives it (imported here only).
    from reporting.models import SnapshotStatus
    from reporting.services import snapshot_build

    programme = foundation.programme()
    cutoff = pilot.PILOT_TARGETS.cutoff
    if programme.snapshots.filter(as_of=cutoff, status=SnapshotStatus.PUBLISHED).exists():
        out.write(f"  统计快照（截至 {cutoff:%Y-%m-%d}）已存在\n")
        return
    snapshot = snapshot_build(programme=programme, as_of=cutoff, publish=True, source="demo")
    out.write(f"  统计快照 #{snapshot.pk}（截至 {cutoff:%Y-%m-%d}）已发布，耗时 {snapshot.build_ms} 毫秒\n")
