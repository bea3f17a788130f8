"""Demo step: the pilot's loans arrive the way a bank sends them — as workbooks through the intake.

For each bank (``banks.demo.pilot``): its registrations (贷款备案) first, then its monthly status
reports (月度状态) month by month.  Every workbook is the system's own template filled in
(``banks.xlsx.rows_workbook``) and goes through the upload service and the ``process_batch`` task
(eager under the embedded default), exactly like an upload in the portal.

Dates: the pilot registers each loan within 30 days of disbursement (R15) and reports each month
early in the next.  The intake judges a batch by the day it was uploaded, so the loader uploads
registrations in groups that fit the 30-day window and dates each upload on the day the bank
would have sent it (the last ``registered_on`` of the group; the 10th of the following month for a
status report).  The upload time is set inside the transaction that creates the batch, before the
task is queued on commit.

Idempotent: the workbooks are reproducible byte for byte, so a rerun finds each file's SHA-256
already applied for the bank and sends nothing.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from banks import xlsx
from banks.intake import fields as F
from banks.models import BatchStatus, IntakeBatch
from registry.models import Bank

from . import pilot

REGISTRATION_WINDOW_DAYS = 30  # R15 default; every group's upload day is within it for each loan
STATUS_UPLOAD_DAY = 10  # status report of month M uploaded on the 10th of M+1
UPLOAD_HOUR = 16
WAIT_FOR_WORKER_SECONDS = 300


@dataclass(frozen=True)
class Upload:
    kind: str
    bank_code: str
    uploaded_on: date
    filename: str
    rows: list[dict]


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, UPLOAD_HOUR, 0, tzinfo=ZoneInfo(settings.TIME_ZONE))


def registration_groups(loans: list[pilot.Loan]) -> Iterator[list[pilot.Loan]]:
    """Loans in registration order, cut into groups whose last registration day is at most 30 days
    after every disbursement in the group (so the upload day keeps each loan within R15)."""
    group: list[pilot.Loan] = []
    earliest: date | None = None
    for loan in sorted(loans, key=lambda x: (x.registered_on, x.contract_no)):
        if group and earliest and (loan.registered_on - min(earliest, loan.disbursed_on)).days > REGISTRATION_WINDOW_DAYS:
            yield group
            group, earliest = [], None
        group.append(loan)
        earliest = loan.disbursed_on if earliest is None else min(earliest, loan.disbursed_on)
    if group:
        yield group


def uploads_for(data: pilot.PilotData, bank_code: str) -> Iterator[Upload]:
    """The bank's workbooks in the order it sends them: registrations, then each month's report."""
    by_contract = {row["借款合同编号"]: row for row in data.registration_rows(bank_code)}
    loans = [loan for loan in data.loans if loan.bank_code == bank_code]
    for group in registration_groups(loans):
        day = max(loan.registered_on for loan in group)
        rows = [by_contract[loan.contract_no] for loan in sorted(group, key=lambda x: x.contract_no)]
        yield Upload(F.REGISTRATION, bank_code, day, f"贷款备案_{bank_code}_{day:%Y%m%d}.xlsx", rows)
    for month in data.months():
        rows = data.status_rows(bank_code, month)
        if rows:
            first = date.fromisoformat(f"{month}-01")
            day = (first + timedelta(days=32)).replace(day=STATUS_UPLOAD_DAY)
            yield Upload(F.STATUS, bank_code, day, f"月度状态_{bank_code}_{month}.xlsx", rows)


def _send(upload: Upload, bank: Bank, content: bytes) -> IntakeBatch:
    """Upload one workbook and return it processed: each file must be applied before the next
    (status reports need their loans registered), whatever runs the queued task."""
    from banks.services import intake_process, intake_upload

    with transaction.atomic():  # the task is queued on commit, after the upload time is set
        batch = intake_upload(bank=bank, kind=upload.kind, fileobj=io.BytesIO(content), filename=upload.filename,
                              uploaded_by=None)
        IntakeBatch.objects.filter(pk=batch.pk).update(uploaded_at=_at(upload.uploaded_on))
    batch.refresh_from_db()
    if not batch.is_finished:  # not run on commit (a broker is configured, or inside an outer transaction)
        batch = intake_process(batch_id=batch.pk)
    deadline = time.monotonic() + WAIT_FOR_WORKER_SECONDS
    while not batch.is_finished and time.monotonic() < deadline:  # a worker holds it: wait for the result
        time.sleep(0.2)
        batch.refresh_from_db()
    return batch


def load_pilot(out: TextIO) -> None:
    started = time.monotonic()
    data = pilot.build()
    lists = xlsx.lookup_lists()
    banks = {b.code: b for b in Bank.objects.filter(code__in=data.bank_codes())}
    sent = skipped = rows = 0
    problems: list[str] = []
    for bank_code in data.bank_codes():
        bank = banks[bank_code]
        for upload in uploads_for(data, bank_code):
            content = xlsx.rows_workbook(kind=upload.kind, rows=upload.rows, lists=lists,
                                         timestamp=_at(upload.uploaded_on))
            sha = hashlib.sha256(content).hexdigest()
            if IntakeBatch.objects.filter(bank=bank, kind=upload.kind, sha256=sha,
                                          status=BatchStatus.APPLIED).exists():
                skipped += 1
                continue
            batch = _send(upload, bank, content)
            sent += 1
            rows += batch.rows_total
            if batch.status != BatchStatus.APPLIED:
                problems.append(_describe(upload, batch))
    out.write(f"  {sent} 个工作簿已导入（{rows} 行），{skipped} 个此前已导入，用时 {time.monotonic() - started:.1f} 秒\n")
    if problems:
        raise RuntimeError("演示数据导入被拒绝：\n" + "\n".join(problems))


def _describe(upload: Upload, batch: IntakeBatch) -> str:
    errors = [i for i in batch.issues if i.get("level") == "error"][:5]
    details = "；".join(f"第{i.get('row')}行 {i.get('column')}：{i.get('message')}" for i in errors)
    return f"{upload.filename}：{batch.get_status_display()}，错误 {batch.error_count} 条。{details}"
