"""The decision notice (补偿决定通知书) of an approved, paid or rejected claim, as a PDF.

Built on request from the claim's stored calculation (R26), so the notice always shows
exactly what the portal and the admin show. The Chinese text uses reportlab's built-in
CID font STSong-Light (no font file is embedded).
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from fund.models import Claim, ClaimStatus

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

TITLE = ParagraphStyle("title", fontName=FONT, fontSize=18, leading=26, alignment=1, spaceAfter=6 * mm)
BODY = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=17)
SMALL = ParagraphStyle("small", fontName=FONT, fontSize=9, leading=14, textColor=colors.HexColor("#555555"))


def notice_filename(claim: Claim) -> str:
    return f"decision-{claim.number}.pdf"


def _money(value: str | None) -> str:
    return f"{Decimal(value):,.2f} 元" if value not in (None, "") else "—"


def _table(rows: list[list[str]], widths: list[float]) -> Table:
    table = Table([[Paragraph(str(c), BODY) for c in row] for row in rows], colWidths=widths)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3f4f6")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return table


def _decision(claim: Claim) -> tuple[str, str]:
    if claim.status == ClaimStatus.REJECTED:
        return "不予补偿", claim.rejection_reason or "—"
    if claim.status == ClaimStatus.PAID:
        return "予以补偿，已支付", claim.status_changes.filter(to_status=ClaimStatus.APPROVED).values_list(
            "comment", flat=True).last() or "符合补偿条件"
    return "予以补偿", claim.status_changes.filter(to_status=ClaimStatus.APPROVED).values_list(
        "comment", flat=True).last() or "符合补偿条件"


def _decided_on(claim: Claim) -> str:
    """The business date of the decision: approval's calculation date, or the rejection's day."""
    if claim.status == ClaimStatus.REJECTED and claim.rejected_at:
        return f"{timezone.localtime(claim.rejected_at):%Y-%m-%d}"
    approved = (claim.calculation or {}).get("approved_on")
    if approved:
        return approved
    return f"{timezone.localtime(claim.approved_at):%Y-%m-%d}" if claim.approved_at else "—"


def claim_decision_notice(claim: Claim) -> bytes:
    """The notice for an approved, paid or rejected claim, with the calculation and the reason."""
    loan, calc = claim.loan, claim.calculation or {}
    decision, reason = _decision(claim)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"补偿决定通知书 {claim.number}", author="风险补偿资金池")
    decided_on = _decided_on(claim)
    story = [
        Paragraph("风险补偿申请决定通知书", TITLE),
        Paragraph(f"{loan.bank.name}：", BODY),
        Spacer(1, 3 * mm),
        Paragraph(
            f"贵行于 {claim.claim_date:%Y年%m月%d日} 就借款合同 {loan.contract_no}（借款企业：{loan.enterprise_name}，"
            f"{loan.get_mode_display()}模式）提交的风险补偿申请（编号 {claim.number}），经审核，决定如下：", BODY),
        Spacer(1, 4 * mm),
        _table([
            ["决定", decision],
            ["理由 / 意见", reason],
            ["决定日期", decided_on],
        ], [35 * mm, 135 * mm]),
        Spacer(1, 5 * mm),
        Paragraph("补偿金额计算（R26）", BODY),
        Spacer(1, 2 * mm),
    ]
    inputs = calc.get("inputs", {})
    rows = [
        ["适用参数集", f"#{calc.get('parameter_set_id', '—')}（{calc.get('parameter_set_effective_from', '—')} 起生效）"],
        ["申请日未偿本金", _money(inputs.get("unpaid_principal"))],
        ["欠息（不予补偿，R20）", _money(inputs.get("unpaid_interest"))],
        ["资金池分担比例", f"{inputs.get('pool_share_percent', '—')}%"],
    ]
    for step in calc.get("steps", []):
        capped = "（已适用）" if step.get("applied") and step["code"] in ("R22", "R3") else ""
        rows.append([step["code"], f"{step['label']}{capped} → {_money(step.get('amount'))}"])
    if claim.status != ClaimStatus.REJECTED:
        rows.append(["应补偿金额（R18–R22）", _money(f"{claim.claim_amount}" if claim.claim_amount is not None else None)])
    payment = calc.get("payment")
    if payment:
        rows += [["资金池实付", f"{_money(payment['paid'])}（{payment['paid_on']}）"],
                 ["资金池未付（R3）", _money(payment["unpaid_by_pool"])]]
    story += [
        _table(rows, [45 * mm, 125 * mm]),
        Spacer(1, 6 * mm),
        Paragraph("资金池补偿后，贵行（或担保机构）应继续追偿，收回款项扣除追偿费用后，按资金池实付比例于 10 个工作日内返还资金池（R30）。",
                  SMALL),
        Spacer(1, 10 * mm),
        Paragraph(f"风险补偿资金池管理机构　　{timezone.localdate():%Y年%m月%d日}", BODY),
    ]
    doc.build(story)
    return buffer.getvalue()
