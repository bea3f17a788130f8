"""Per-cell parsing shared by both kinds: raw values → typed values, every bad cell reported.

A cell that fails to parse becomes :data:`INVALID`, so later checks that depend on it stay
quiet (one error per cause).  An empty cell is ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from registry.rules import RuleError

from . import cells
from . import fields as F
from .issues import IssueLog
from .reader import ERROR_PREFIX, FORMULA_MISSING, PERCENT, Table


class _Invalid:
    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"

    def __bool__(self) -> bool:
        return False


INVALID: Any = _Invalid()
PROGRESS_EVERY = 2000


def _marker_value(marker: str, field: F.Field, value: Any) -> Any:
    if marker == FORMULA_MISSING:
        raise RuleError("formula_no_value", "单元格是公式但没有计算结果，请在 Excel 中重新计算并保存，或改为填写数值")
    if marker.startswith(ERROR_PREFIX):
        raise RuleError("cell_error", f"单元格是错误值 {marker.removeprefix(ERROR_PREFIX)}，请修正公式或改为填写数值")
    if marker == PERCENT and field.type == F.RATE and not cells.is_empty(value):
        if field.name == "guarantee_fee_rate":
            return cells.parse_fee_rate(value, percent_cell=True)
        return cells.parse_rate(value, percent_cell=True)
    return None


def parse_table(
    table: Table, log: IssueLog, *, progress: Callable[[int], None] | None = None
) -> Iterator[tuple[int, list[Any], bool]]:
    """Yield ``(row number, typed values, clean)`` per data row, logging every cell that is missing
    or bad; ``clean`` is False when this row had such a cell."""
    fields = F.fields_for(table.kind)
    specs = [
        (i, cells.parser_for(f), f.required, f.max_length, table.labels[i], f)
        for i, f in enumerate(fields)
    ]
    markers = table.markers
    done = 0
    counts = log.counts
    for rowno, values in table.rows:
        before = counts["error"]
        marks = markers.get(rowno) if markers else None
        for i, parse, required, max_length, label, fld in specs:
            value = values[i]
            if marks and i in marks:
                try:
                    marked = _marker_value(marks[i], fld, value)
                except RuleError as exc:
                    log.error(exc.message, row=rowno, column=label, value=value)
                    values[i] = INVALID
                    continue
                if marked is not None:
                    values[i] = marked
                    continue
            if value is None or value == "" or (value.__class__ is str and value.isspace()):
                values[i] = None
                if required:
                    log.error(f"必填项“{fld.header}”未填写", row=rowno, column=label, rule=fld.rule)
                continue
            try:
                parsed = parse(value)
            except RuleError as exc:
                log.error(exc.message, row=rowno, column=label, value=value)
                values[i] = INVALID
                continue
            if parsed.__class__ is str and (not parsed or (max_length and len(parsed) > max_length)):
                values[i] = _bad_text(parsed, value, fld, rowno, label, log)
                continue
            values[i] = parsed
        yield rowno, values, counts["error"] == before
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)


def _bad_text(parsed: str, value: Any, fld: F.Field, rowno: int, label: str, log: IssueLog) -> Any:
    if not parsed:
        if fld.required:
            log.error(f"必填项“{fld.header}”未填写", row=rowno, column=label, rule=fld.rule)
        return None
    log.error(f"{fld.header}过长：最多 {fld.max_length} 个字符", row=rowno, column=label, value=value)
    return INVALID
