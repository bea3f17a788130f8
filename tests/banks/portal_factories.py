"""Helpers for the bank-portal tests (tests/banks/test_portal_*.py): banks with users, batches with
a stored file, loans with monthly reports."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from banks import xlsx
from banks.intake import fields as F
from banks.models import BatchKind, BatchStatus, IntakeBatch, StatusReport
from fund.models import Classification, LoanStatus
from registry import roles
from tests.factories import BankFactory, GuarantorFactory, LoanFactory, ProgrammeFactory, UserFactory

PASSWORD = "Passw0rd!x"


def bank_user(bank=None, username: str | None = None):
    bank = bank or BankFactory()
    return UserFactory(username=username or f"u-{bank.code.lower()}", bank=bank, role=roles.BANK_USER)


def guarantor_user(guarantor=None):
    guarantor = guarantor or GuarantorFactory()
    return UserFactory(username=f"g-{guarantor.code.lower()}", guarantor=guarantor, role=roles.GUARANTOR_USER)


def stored_batch(*, bank, content: bytes, filename: str = "备案.xlsx", kind: str = BatchKind.REGISTRATION,
                 issues: list | None = None, status: str = BatchStatus.REJECTED, programme=None) -> IntakeBatch:
    """A finished batch whose file is stored under MEDIA_ROOT as the upload service stores it."""
    relative = Path("intake") / bank.code / f"test-{hashlib.sha256(content).hexdigest()[:12]}{Path(filename).suffix}"
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    issues = issues or []
    return IntakeBatch.objects.create(
        bank=bank, programme=programme or ProgrammeFactory(code="FBD"), kind=kind, filename=filename,
        file_format=Path(filename).suffix.lstrip(".").lower(), size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(), stored_path=str(relative), status=status,
        rows_total=3, rows_done=3,
        error_count=sum(1 for i in issues if i["level"] == "error"),
        warning_count=sum(1 for i in issues if i["level"] == "warning"),
        issues=issues,
    )


def issue(row, column, message, *, level="error", rule="", value="") -> dict:
    return {"sheet": F.SHEET_NAMES[F.REGISTRATION], "row": row, "column": column, "value": value,
            "rule": rule, "message": message, "level": level}


def report(loan, month: date, *, batch, balance: Decimal | None = None, **kw) -> StatusReport:
    return StatusReport.objects.create(
        loan=loan, month=month, outstanding_principal=loan.principal if balance is None else balance,
        classification=kw.pop("classification", Classification.NORMAL), status=kw.pop("status", LoanStatus.CURRENT),
        batch=batch, **kw,
    )


def registration_rows(n: int = 3) -> list[dict]:
    """Registration rows keyed by header (values need not pass validation for the annotation tests)."""
    return [
        {"借款合同编号": f"HT-{i:03d}", "统一社会信用代码": "91510100MA61234567", "企业名称": f"成都测试{i}有限公司",
         "所在市(州)": "成都市", "行业代码": "F5123", "是否民营": "是", "担保模式": "政银",
         "合同签订日期": date(2021, 6, 1), "放款日期": date(2021, 6, 3), "到期日期": date(2022, 6, 2),
         "贷款金额(元)": Decimal("1000000.00"), "年利率(%)": Decimal("4.35"), "贷款用途": "流动资金周转",
         "信用承诺": "是"}
        for i in range(1, n + 1)
    ]


def loan(bank, **kw):
    kw.setdefault("programme", ProgrammeFactory(code="FBD"))
    return LoanFactory(bank=bank, **kw)


__all__ = ["PASSWORD", "bank_user", "guarantor_user", "issue", "loan", "registration_rows", "report",
           "stored_batch", "xlsx"]
