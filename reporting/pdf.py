"""The monthly statistics report (统计监测月报) of a snapshot as a PDF.

Everything comes from the frozen snapshot (R41).  Chinese text in reportlab's built-in CID font
STSong-Light; bar charts drawn with reportlab.graphics; every page carries the cut-off date, the
snapshot number and its page number.  A draft snapshot is marked as such on every page.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils import timezone
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from . import labels
from .display import display
from .models import Snapshot
from .selectors.snapshots import snapshot_rows
from .selectors.stats import DIMENSIONS

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
BRAND = colors.HexColor("#9b1c1c")
TITLE = ParagraphStyle("title", fontName=FONT, fontSize=18, leading=26, alignment=1, spaceAfter=4 * mm)
H2 = ParagraphStyle("h2", fontName=FONT, fontSize=13, leading=20, spaceBefore=4 * mm, spaceAfter=2 * mm,
                    textColor=BRAND)
BODY = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=15)
CELL = ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=10)
NOTE = ParagraphStyle("note", fontName=FONT, fontSize=8, leading=12, textColor=colors.HexColor("#555555"))
DIMENSION_TITLES = {
    "region": "按市(州)", "section": "按行业门类", "division": "按行业大类", "bank": "按合作银行",
    "mode": "按担保模式", "month": "按签约月份", "size": "按企业规模",
}
HEADLINE = ("applicants", "borrowers", "private_borrowers", "private_share", "loans", "principal",
            "outstanding_principal", "avg_rate", "effective_rate", "overdue_rate", "npl_rate", "claims_filed",
            "claims_paid_amount", "compensation_rate", "recoveries_net", "subsidies_paid_amount", "leverage",
            "leverage_target", "leverage_expected_multiple", "pool_balance", "regions_covered",
            "industries_covered")


def _page_decorator(snapshot: Snapshot):
    status = "" if snapshot.is_published else "（草稿，未发布）"

    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        width, height = doc.pagesize
        canvas.drawString(15 * mm, height - 10 * mm,
                          f"{snapshot.programme.name} 统计监测月报　统计截止日 {snapshot.as_of:%Y-%m-%d}　"
                          f"快照编号 {snapshot.pk}{status}")
        canvas.drawRightString(width - 15 * mm, 8 * mm, f"第 {doc.page} 页")
        canvas.drawString(15 * mm, 8 * mm, f"截至 {snapshot.as_of:%Y-%m-%d}　快照 #{snapshot.pk}")
        canvas.restoreState()

    return draw


def _headline_table(overall: dict) -> Table:
    cells = [(labels.label(k), display(k, overall.get(k), money_in_wan=False)) for k in HEADLINE if k in overall]
    rows = []
    for i in range(0, len(cells), 2):
        pair = cells[i:i + 2]
        row = []
        for name, value in pair:
            row += [Paragraph(name, BODY), Paragraph(value, BODY)]
        rows.append(row + [""] * (4 - len(row)))
    table = Table(rows, colWidths=[60 * mm, 60 * mm, 60 * mm, 60 * mm])
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3f4f6")),
        ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#f3f4f6")),
    ]))
    return table


def _breakdown_table(dimension: str, rows: list[dict]) -> Table:
    columns = labels.columns_for(dimension)
    header = [Paragraph("名称", CELL)] + [Paragraph(labels.SHORT_LABELS.get(c, c), CELL) for c in columns]
    body = [[Paragraph(r["name"], CELL)] + [Paragraph(display(c, r["metrics"].get(c)), CELL) for c in columns]
            for r in rows]
    first = 42 * mm
    rest = (267 * mm - first) / len(columns)
    table = Table([header, *body], colWidths=[first] + [rest] * len(columns), repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#bbbbbb")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f4f6")),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return table


def _bar_chart(title: str, rows: list[dict], *, horizontal: bool = True) -> Drawing:
    """Principal (亿元) per row as a bar chart."""
    rows = [r for r in rows if Decimal(r["metrics"].get("principal") or 0) > 0]
    if horizontal:
        # largest on top: reportlab draws the first category at the bottom
        rows = sorted(rows, key=lambda r: Decimal(r["metrics"]["principal"]))
    values = [float(Decimal(r["metrics"]["principal"]) / Decimal(100_000_000)) for r in rows]
    names = [r["name"] for r in rows]
    height = (40 + 14 * len(rows)) if horizontal else 180
    drawing = Drawing(250 * mm, height + 30)
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    chart.x, chart.y = 45 * mm, 15
    chart.width, chart.height = 190 * mm, height
    chart.data = [values or [0]]
    chart.categoryAxis.categoryNames = names or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = BRAND
    chart.barLabelFormat = "%.2f"
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 6.5
    if horizontal:
        chart.barLabels.boxAnchor = "w"
        chart.barLabels.dx = 3
    else:
        chart.categoryAxis.labels.angle = 30
        chart.categoryAxis.labels.boxAnchor = "ne"
        chart.barLabels.nudge = 6
    drawing.add(chart)
    drawing.add(String(0, height + 20, f"{title}（亿元）", fontName=FONT, fontSize=10, fillColor=BRAND))
    return drawing


def snapshot_pdf(snapshot: Snapshot) -> bytes:
    rows = snapshot_rows(snapshot)
    overall = rows.get("overall", [{}])[0].get("metrics", {})
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
        bottomMargin=14 * mm, title=f"统计监测月报 {snapshot.as_of:%Y-%m-%d}", author="风险补偿资金池管理系统",
    )
    story = [
        Paragraph(f"{snapshot.programme.name} 统计监测月报", TITLE),
        Paragraph(f"统计截止日：{snapshot.as_of:%Y年%m月%d日}　快照编号：{snapshot.pk}　"
                  f"状态：{snapshot.get_status_display()}　生成：{timezone.localtime(snapshot.created_at):%Y-%m-%d %H:%M}",
                  BODY),
        Spacer(1, 3 * mm),
        Paragraph("一、主要指标", H2),
        _headline_table(overall),
        Paragraph("金额单位：元；利率为按贷款金额加权的年利率；放大倍数 = 累计放款 ÷ 财政出资。口径见 docs/statistics.md。", NOTE),
        PageBreak(),
        Paragraph("二、图表", H2),
        KeepTogether(_bar_chart("各市(州)放款", rows.get("region", []))),
        KeepTogether(_bar_chart("各行业大类放款", rows.get("division", []))),
        KeepTogether(_bar_chart("按签约月份放款", rows.get("month", []), horizontal=False)),
        PageBreak(),
        Paragraph("三、分项数据（金额：万元）", H2),
    ]
    for dimension in DIMENSIONS:
        if dimension == "overall":
            continue
        story += [Paragraph(DIMENSION_TITLES[dimension], BODY), _breakdown_table(dimension, rows.get(dimension, [])),
                  Spacer(1, 4 * mm)]
    story.append(Paragraph(
        "本报告数字均取自上述快照，快照发布后不再改动。公开发布时，获贷企业少于 "
        f"{snapshot.suppression_min} 户的单元格不予公布。", NOTE))
    decorate = _page_decorator(snapshot)
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
