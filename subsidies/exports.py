"""The payment list of a batch as an Excel workbook for the treasury's payment system."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from .models import PaymentBatch, Subsidy

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HEADERS = ["序号", "企业名称", "统一社会信用代码", "收款户名", "收款开户行", "收款账号", "贷款银行", "借款合同编号",
           "补贴类型", "金额(元)", "业务参考号"]


def safe_text(value: object) -> str:
    """Text a spreadsheet will never read as a formula (CSV/formula injection): prefix ``'``."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def payment_list_xlsx(*, batch: PaymentBatch, subsidies: Sequence[Subsidy]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "补贴支付清单"
    ws.append([safe_text(f"补贴支付批次 {batch.reference}（{batch.programme.name}）")])
    ws.append(HEADERS)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for i, s in enumerate(subsidies, start=1):
        row = [
            i, s.enterprise.name, s.enterprise.credit_code, s.payee_name, s.payee_bank, s.payee_account,
            s.loan.bank.name, s.loan.contract_no, s.get_kind_display(), None, f"subsidy:{s.pk}",
        ]
        ws.append([safe_text(v) if isinstance(v, str) else v for v in row])
        amount = ws.cell(row=ws.max_row, column=10, value=s.amount)
        amount.number_format = "#,##0.00"
        for col in (3, 6, 8):  # codes and account numbers stay text
            ws.cell(row=ws.max_row, column=col).number_format = "@"
    ws.append([])
    ws.append(["合计", None, None, None, None, None, None, None, f"{len(subsidies)} 笔", sum(s.amount for s in subsidies)])
    ws.cell(row=ws.max_row, column=10).number_format = "#,##0.00"
    for col, width in zip("ABCDEFGHIJK", (6, 30, 22, 30, 24, 24, 24, 20, 12, 16, 16), strict=True):
        ws.column_dimensions[col].width = width
    ws["A1"].alignment = Alignment(horizontal="left")
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
