"""One phase of the intake benchmark, run in its own process so its peak RSS is real.

    python -m tests.bench.intake_worker setup      migrate, programme/bank/guarantor, workbooks
    python -m tests.bench.intake_worker register   the full intake of the registration workbook
    python -m tests.bench.intake_worker status     the same for the month's status report
    python -m tests.bench.intake_worker bare-register / bare-status   a bare python-calamine parse

Prints one JSON object on the last line of stdout.  DATABASE_URL chooses the database (the
benchmark test points it at a scratch database).  The 100,000-row workbooks are written once
with openpyxl's write-only mode and cached under /tmp (keyed by today's date: rows are dated
relative to today so that R15's 30-day window holds).
"""

from __future__ import annotations

import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.pop("CELERY_BROKER_URL", None)

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

ROWS = int(os.environ.get("BENCH_INTAKE_ROWS", "100000"))
CACHE = Path(os.environ.get("BENCH_CACHE_DIR", Path(tempfile.gettempdir()) / "fundpool-bench-intake"))
REGIONS = ["成都市", "510700", "乐山", "宜宾市", "南充市", "达州市", "510100", "绵阳市", "德阳", "泸州市"]
INDUSTRIES = ["F5123", "F5211", "H6210", "I6510", "L7212", "M7320", "O8011", "C4330", "G5438", "K7040", "N7721",
              "R8710", "P8310", "Q8421", "F5149", "I6420"]


def _today() -> date:
    return timezone.localdate()


def _paths() -> tuple[Path, Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    key = f"{_today():%Y%m%d}-{ROWS}"
    return CACHE / f"registration-{key}.xlsx", CACHE / f"status-{key}.xlsx"


def _rows():
    from registry.rules import lpr_in_force, make_uscc

    rnd = random.Random(20210528)
    today = _today()
    lpr = lpr_in_force(today - timedelta(days=40))
    for i in range(ROWS):
        disbursed = today - timedelta(days=rnd.randint(1, 25))
        signed = disbursed - timedelta(days=rnd.randint(0, 5))
        enterprise = i % (ROWS * 9 // 10)  # some enterprises borrow twice
        guaranteed = i % 5 == 0
        principal = Decimal(rnd.randint(10, 300) * 10000)
        yield [
            f"BH{i:09d}", make_uscc(f"91510100MA{enterprise:07d}"), f"四川测试服务有限公司{enterprise}",
            REGIONS[i % len(REGIONS)], INDUSTRIES[i % len(INDUSTRIES)], rnd.randint(3, 45),
            float(rnd.randint(50, 900)), float(rnd.randint(50, 900)), "是" if i % 7 else "否",
            "政银担" if guaranteed else "政银", "基准融资担保有限公司" if guaranteed else None,
            f"DB{i:09d}" if guaranteed else None, 1.5 if guaranteed else None,
            signed, disbursed, disbursed + timedelta(days=rnd.randint(90, 360)), float(principal),
            float(lpr + Decimal(rnd.randint(0, 50)) / 100), "流动资金周转", "是",
        ]


def _write(path: Path, sheet: str, header: list[str], rows) -> None:
    import openpyxl

    tmp = path.with_suffix(".tmp")
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(tmp)
    tmp.rename(path)


def _status_rows():
    month = _today().replace(day=1)
    for i, row in enumerate(_rows()):
        principal = row[16]
        settled = i % 50 == 0
        balance = 0.0 if settled else principal - (i % 4) * 10000.0
        yield [
            row[0], f"{month:%Y-%m}", balance, principal - balance, 2500.0, 0 if i % 40 else 12,
            "正常" if i % 40 else "关注", "结清" if settled else ("正常" if i % 40 else "逾期"),
            _today() - timedelta(days=1) if settled else None, 2500.0, 900.0 if i % 5 == 0 else 0.0,
        ]


def setup() -> dict:
    from banks.intake import fields as F
    from fund.models import GuarantorPartnership, ParameterSet, Partnership, Programme
    from registry.models import Bank, Guarantor, User

    call_command("migrate", verbosity=0)
    today = _today()
    programme = Programme.objects.create(code="BENCH", name="基准项目", start_date=today - timedelta(days=400),
                                         end_date=today + timedelta(days=400))
    ParameterSet.objects.create(programme=programme, effective_from=date(2020, 1, 1))
    bank = Bank.objects.create(code="BENCHB", name="基准银行", short_name="基准行")
    Partnership.objects.create(programme=programme, bank=bank, committed_lending=Decimal("1e11"),
                               pool_allocation=Decimal("1e9"), joined_on=programme.start_date)
    guarantor = Guarantor.objects.create(code="BENCHG", name="基准融资担保有限公司", short_name="基准担保")
    GuarantorPartnership.objects.create(programme=programme, guarantor=guarantor, joined_on=programme.start_date)
    User.objects.create(username="bench_bank", bank=bank)
    registration, status = _paths()
    if not registration.exists():
        _write(registration, F.SHEET_NAMES["registration"], [f.header for f in F.REGISTRATION_FIELDS], _rows())
    if not status.exists():
        _write(status, F.SHEET_NAMES["status"], [f.header for f in F.STATUS_FIELDS], _status_rows())
    return {"registration": str(registration), "status": str(status)}


def _bare_parse(path: Path, sheet: str) -> float:
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    workbook = CalamineWorkbook.from_path(str(path))
    count = sum(1 for _ in workbook.get_sheet_by_name(sheet).iter_rows())
    workbook.close()
    assert count > ROWS
    return time.perf_counter() - start


def _bare(kind: str, path: Path) -> dict:
    from banks.intake import fields as F

    return {"kind": kind, "bare_seconds": _bare_parse(path, F.SHEET_NAMES[kind]),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _intake(kind: str, path: Path) -> dict:
    from banks import services
    from registry.models import Bank, User

    bank, user = Bank.objects.get(code="BENCHB"), User.objects.get(username="bench_bank")
    start = time.perf_counter()
    with path.open("rb") as fh:
        batch = services.intake_upload(bank=bank, kind=kind, fileobj=fh, filename=path.name, uploaded_by=user)
    batch.refresh_from_db()
    elapsed = time.perf_counter() - start
    return {
        "kind": kind, "status": batch.status, "rows": batch.rows_total, "errors": batch.error_count,
        "first_issues": batch.issues[:5], "summary": batch.summary, "seconds": elapsed,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "vendor": django.db.connection.vendor,
    }


def main(phase: str) -> None:
    registration, status = _paths()
    if phase == "setup":
        result = setup()
    elif phase == "register":
        result = _intake("registration", registration)
    elif phase == "status":
        result = _intake("status", status)
    elif phase == "bare-register":
        result = _bare("registration", registration)
    elif phase == "bare-status":
        result = _bare("status", status)
    else:
        raise SystemExit(f"unknown phase {phase}")
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
