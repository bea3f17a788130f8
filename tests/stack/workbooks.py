"""Loan-registration workbooks (bank-workbooks.md §1) that pass every rule today, of any size.

``registration_rows(n, prefix=…)`` makes ``n`` loans of 100,000 元 each, ten per enterprise (so the
R11 annual cap of 10,000,000 元 is far away), disbursed 5–25 days ago (R15), signed a few days
before, for 6 months (R13), at 3.45 % (under the 1-year LPR 3.00 % + 50 bp, R12), 政银 mode,
service industries with small-enterprise figures (R7, R8), private (R10), attested (R9).
Contract numbers are ``<prefix>-<n>``, so a test counts its own loans with ``LIKE 'prefix-%'``.
Credit codes are made from the prefix too: two runs with different prefixes share no enterprise.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from registry.rules import make_uscc

HEADERS = (
    "借款合同编号", "统一社会信用代码", "企业名称", "所在市(州)", "行业代码", "从业人员(人)",
    "上年营业收入(万元)", "资产总额(万元)", "是否民营", "担保模式", "担保机构", "担保合同编号",
    "担保费率(%)", "合同签订日期", "放款日期", "到期日期", "贷款金额(元)", "年利率(%)", "贷款用途", "信用承诺",
)
SHEET = "贷款备案"
LOANS_PER_ENTERPRISE = 10
PRINCIPAL = 100_000
RATE = "3.45"
# (region code, short name); industries with (employees, revenue 万元, assets 万元) inside "small" (R7)
REGIONS = (("510100", "成都"), ("510700", "绵阳"), ("510600", "德阳"), ("511100", "乐山"), ("510500", "泸州"))
INDUSTRIES = (("F5123", "农产品贸易", 12, 1500, 900), ("F5212", "超市", 30, 300, 200))
ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _org_code(seed: str) -> str:
    """A 9-character organisation code (GB 11714: 8 characters and a mod-11 check character)."""
    digest = hashlib.sha256(seed.encode()).digest()
    body = "".join(ORG_CHARS[b % len(ORG_CHARS)] for b in digest[:8])
    total = sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def _enterprise(prefix: str, i: int) -> tuple[str, str, str, tuple]:
    region, short = REGIONS[i % len(REGIONS)]
    industry = INDUSTRIES[i % len(INDUSTRIES)]
    uscc = make_uscc(f"91{region}{_org_code(f'{prefix}/{i}')}")
    name = f"{short}{prefix}测试{i:05d}{industry[1]}有限公司"
    return uscc, name, region, industry


def registration_rows(n: int, *, prefix: str, today: date | None = None) -> list[list[object]]:
    today = today or datetime.now(tz=ZoneInfo("Asia/Shanghai")).date()  # the programme's TIME_ZONE
    rows: list[list[object]] = []
    enterprise = None
    for k in range(n):
        if k % LOANS_PER_ENTERPRISE == 0:
            enterprise = _enterprise(prefix, k // LOANS_PER_ENTERPRISE)
        uscc, name, region, (industry, _, employees, revenue, assets) = enterprise
        disbursed = today - timedelta(days=5 + k % 20)
        signed = disbursed - timedelta(days=3)
        matures = disbursed + timedelta(days=182)
        rows.append([
            f"{prefix}-{k + 1:06d}", uscc, name, region, industry, employees, revenue, assets, "是", "政银",
            "", "", "", signed.isoformat(), disbursed.isoformat(), matures.isoformat(), PRINCIPAL, RATE,
            "流动资金周转", "是",
        ])
    return rows


def registration_csv(n: int, *, prefix: str, today: date | None = None) -> bytes:
    """UTF-8 CSV (with BOM, as Excel writes it) of ``registration_rows``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(registration_rows(n, prefix=prefix, today=today))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def registration_xlsx(n: int, *, prefix: str, today: date | None = None) -> bytes:
    """An .xlsx workbook (sheet 贷款备案) of ``registration_rows``."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    ws.append(HEADERS)
    for row in registration_rows(n, prefix=prefix, today=today):
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
