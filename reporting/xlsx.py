"""The snapshot as an Excel workbook: a cover sheet, the overall figures, one sheet per breakdown.

Values are numbers (money and rates as Decimal, counts as int) so they add up in Excel; every
text cell goes through the formula-injection guard (``registry.security.spreadsheet.safe_cell``).
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from registry.security.spreadsheet import safe_cell

from . import labels
from .models import Snapshot
from .selectors.snapshots import snapshot_rows
from .selectors.stats import DIMENSIONS

SHEET_TITLES = {
    "overall": "总体", "region": "市(州)", "section": "行业门类", "division": "行业大类", "bank": "合作银行",
    "mode": "担保模式", "month": "签约月份", "size": "企业规模",
}
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F3F4F6")
MONEY_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00"


def _value(metric: str, value):
    if value is None:
        return None
    if labels.kind(metric) == "count":
        return int(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return safe_cell(value)
    return value


def _header(ws, values: list[str]) -> None:
    ws.append([safe_cell(v) for v in values])
    for cell in ws[ws.max_row]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL


def _formats(ws, metrics: list[str], first_col: int) -> None:
    for i, metric in enumerate(metrics):
        fmt = MONEY_FORMAT if labels.kind(metric) == "money" else RATE_FORMAT if labels.kind(metric) != "count" else None
        if fmt is None:
            continue
        letter = get_column_letter(first_col + i)
        for cell in ws[letter][1:]:
            cell.number_format = fmt


def snapshot_workbook(snapshot: Snapshot) -> bytes:
    rows = snapshot_rows(snapshot)
    wb = Workbook()
    cover = wb.active
    cover.title = "说明"
    for pair in (
        ("项目", snapshot.programme.name), ("统计截止日", snapshot.as_of.isoformat()), ("快照编号", snapshot.pk),
        ("状态", snapshot.get_status_display()),
        ("发布时间", timezone.localtime(snapshot.published_at).strftime("%Y-%m-%d %H:%M") if snapshot.published_at
         else "未发布"),
        ("说明", "所有数字取自该快照，发布后不再改动；金额单位为元，利率为百分数（两位小数）；口径见 docs/statistics.md。"),
    ):
        cover.append([safe_cell(v) for v in pair])
    cover.column_dimensions["A"].width, cover.column_dimensions["B"].width = 14, 80
    for dimension in DIMENSIONS:
        ws = wb.create_sheet(SHEET_TITLES[dimension])
        dim_rows = rows.get(dimension, [])
        if dimension == "overall":
            _header(ws, ["指标", "数值"])
            for metric, value in (dim_rows[0]["metrics"] if dim_rows else {}).items():
                ws.append([safe_cell(labels.label(metric)), _value(metric, value)])
                if labels.kind(metric) == "money":
                    ws.cell(ws.max_row, 2).number_format = MONEY_FORMAT
            ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 28, 22
            continue
        metrics = list(dim_rows[0]["metrics"]) if dim_rows else list(labels.columns_for(dimension))
        _header(ws, ["代码", "名称", *[labels.label(m) for m in metrics]])
        for r in dim_rows:
            ws.append([safe_cell(str(r["key"])), safe_cell(r["name"]),
                       *[_value(m, r["metrics"].get(m)) for m in metrics]])
        _formats(ws, metrics, 3)
        ws.freeze_panes = "C2"
        ws.column_dimensions["B"].width = 28
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
