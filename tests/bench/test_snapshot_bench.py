"""Statistics benchmark (``make bench``): a snapshot over 1,000,000 loans on PostgreSQL (100,000 on
SQLite, named so), against one raw SQL GROUP BY over the same data; and the public statistics
endpoint against a trivial endpoint of the same server (Django's test client, same process).

Prints::

    BENCH snapshot_build_s[_<db>_<n>] <s> s         building and publishing one snapshot
    BENCH snapshot_groupby_s[_<db>_<n>] <s> s       one GROUP BY 市(州) over loans ⋈ enterprises
    BENCH snapshot_ratio[_<db>_<n>] <x> x           build ÷ GROUP BY          (target ≤ 2)
    BENCH stats_latency_ms[_<db>] <ms> ms           median GET /api/public/stats/
    BENCH trivial_latency_ms[_<db>] <ms> ms         median GET /healthz (SELECT 1)
    BENCH stats_latency_ratio[_<db>] <x> x          (target ≤ 2)
    BENCH snapshot_phase_<phase>_s[_<db>_<n>] <s> s  one more build, its phases timed (not in the ratio)

Names without a suffix are the PostgreSQL figures at 1,000,000 loans.  The data are generated
with a fixed seed and written with COPY (PostgreSQL) or executemany in chunks (SQLite); every
loan carries its latest monthly state, as the intake leaves it.
"""

from __future__ import annotations

import io
import os
import random
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

pytestmark = [pytest.mark.bench, pytest.mark.django_db]

AS_OF = date(2022, 5, 31)
SIGN_FROM = date(2021, 6, 1)
SIGN_DAYS = 350
ENTERPRISE_COLUMNS = ("credit_code", "name", "region_id", "industry_code", "industry_id", "employees",
                      "revenue_10k", "assets_10k", "size_class", "is_private", "created_at")
LOAN_COLUMNS = (
    "programme_id", "bank_id", "contract_no", "enterprise_id", "enterprise_name", "mode", "guarantor_id",
    "guarantee_contract_no", "signed_on", "disbursed_on", "matures_on", "principal", "annual_rate", "purpose",
    "credit_attested", "registered_at", "late_override_reason", "source_batch", "outstanding_principal",
    "overdue_days", "classification", "status", "settled_on", "interest_paid_total", "guarantee_fee_paid_total",
    "last_report_month", "ever_overdue",
)
APPLICATION_COLUMNS = ("enterprise_id", "bank_id", "programme_id", "amount", "purpose", "contact_name",
                       "contact_phone", "status", "reason", "created_at")
BASELINE_SQL = """
    SELECT e.region_id, COUNT(*), COUNT(DISTINCT l.enterprise_id), SUM(l.principal),
           SUM(l.outstanding_principal), SUM(l.principal * l.annual_rate)
    FROM fund_loan l JOIN registry_enterprise e ON e.id = l.enterprise_id
    WHERE l.programme_id = %s AND l.signed_on <= %s
    GROUP BY e.region_id
"""


def _loan_count(vendor: str) -> int:
    default = 1_000_000 if vendor == "postgresql" else 100_000
    return int(os.environ.get("BENCH_LOANS", default))


def _suffix(vendor: str, n: int) -> str:
    if vendor == "postgresql" and n == 1_000_000:
        return ""
    short = "pg" if vendor == "postgresql" else vendor
    return f"_{short}_{n // 1000}k_loans"


def _with_defaults(model, columns: tuple[str, ...], rows):
    """Add every other concrete column of ``model`` with its default (fields other apps add later)."""
    others = [f for f in model._meta.concrete_fields
              if not f.primary_key and f.column not in columns and f.attname not in columns]
    extra = tuple(f.column for f in others)
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in others)
    return (*columns, *extra), ((*row, *defaults) for row in rows)


def _write(model, columns: tuple[str, ...], rows, *, vendor: str) -> None:
    """COPY on PostgreSQL (text format, tab separated); executemany in chunks elsewhere."""
    table = model._meta.db_table
    columns, rows = _with_defaults(model, columns, rows)
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                buffer = io.StringIO()
                for i, row in enumerate(rows, start=1):
                    buffer.write("\t".join(r"\N" if v is None else str(v) for v in row))
                    buffer.write("\n")
                    if i % 50_000 == 0:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                copy.write(buffer.getvalue())
        return
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - model metadata
    chunk: list = []
    with connection.cursor() as cursor:
        for row in rows:
            chunk.append(tuple(int(v) if isinstance(v, bool) else v for v in row))
            if len(chunk) == 20_000:
                cursor.executemany(sql, chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)


def _generate(n_loans: int, vendor: str):
    """Programme, 9 banks, n/3 borrowers (+10 % applicants without a loan) and n loans."""
    from fund.models import Loan, LoanMode, Partnership, Programme
    from registry.models import Bank, Enterprise, Guarantor, IndustryDivision, Region
    from subsidies.models import LoanApplication
    from tests.factories import ParameterSetFactory

    rng = random.Random(20220528)
    programme = Programme.objects.create(code="BENCH", name="基准测试项目", start_date=date(2021, 5, 28),
                                         end_date=date(2022, 12, 31))
    ParameterSetFactory(programme=programme)
    banks = [Bank.objects.create(code=f"BB{i}", name=f"基准银行{i}", short_name=f"基准{i}") for i in range(1, 10)]
    for bank in banks:
        Partnership.objects.create(programme=programme, bank=bank, committed_lending=Decimal("2000000000"),
                                   pool_allocation=Decimal("20000000"), joined_on=date(2021, 5, 28))
    guarantor = Guarantor.objects.create(code="BG1", name="基准担保", short_name="基准担保")
    regions = list(Region.objects.values_list("code", flat=True))
    divisions = list(IndustryDivision.objects.filter(is_service=True).values_list("code", "section_id"))
    n_borrowers = max(n_loans // 3, 1)
    n_enterprises = n_borrowers + n_borrowers // 10
    now = "2022-06-01 00:00:00+00"

    def enterprises():
        for i in range(n_enterprises):
            code, section = divisions[i % len(divisions)]
            yield (f"91{i:016d}", f"基准企业{i}", regions[(i * 7) % len(regions)], f"{section}{code}00", code,
                   10 + i % 80, "500.00", "300.00", "small" if i % 4 else "micro", i % 15 != 0, now)

    _write(Enterprise, ENTERPRISE_COLUMNS, enterprises(), vendor=vendor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id) FROM registry_enterprise WHERE credit_code LIKE '91%%' AND name LIKE '基准%%'")
        first_id = cursor.fetchone()[0]

    def loans():
        for i in range(n_loans):
            ent = first_id + (i % n_borrowers)
            signed = SIGN_FROM + timedelta(days=rng.randrange(SIGN_DAYS))
            disbursed = signed + timedelta(days=rng.randrange(4))
            matures = disbursed + timedelta(days=365)
            principal = Decimal(rng.randrange(10, 1000) * 10_000)
            rate = Decimal(rng.choice(("3.85", "4.05", "4.15", "4.35")))
            bank = banks[i % 9].pk
            guaranteed = i % 10 < 3
            roll = rng.random()
            settled_on, status, outstanding, overdue, cls, ever, last = None, "current", principal, 0, "normal", False, "2022-05-01"
            if roll < 0.45 and disbursed < date(2022, 5, 1):
                settled_on = disbursed + timedelta(days=rng.randrange(20, max(21, (AS_OF - disbursed).days)))
                settled_on = min(settled_on, AS_OF)
                status, outstanding, last = "settled", Decimal(0), settled_on.replace(day=1).isoformat()
            elif roll > 0.98:
                overdue = rng.randrange(10, 300)
                status, ever = "overdue", True
                cls = "special" if overdue <= 90 else "substandard" if overdue <= 270 else "doubtful"
            yield (programme.pk, bank, f"BH-{i:08d}", ent, f"基准企业{ent}",
                   LoanMode.BANK_GUARANTOR if guaranteed else LoanMode.BANK, guarantor.pk if guaranteed else None,
                   "", signed, disbursed, matures, f"{principal:.2f}", f"{rate}", "流动资金周转", True, now, "", "",
                   f"{outstanding:.2f}", overdue, cls, status, settled_on, "0.00", "0.00", last, ever)

    _write(Loan, LOAN_COLUMNS, loans(), vendor=vendor)

    def applications():
        for j in range(n_borrowers, n_enterprises):
            yield (first_id + j, banks[j % 9].pk, programme.pk, "1000000.00", "流动资金", "", "", "submitted", "",
                   "2022-03-01 00:00:00+00")

    _write(LoanApplication, APPLICATION_COLUMNS, applications(), vendor=vendor)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return programme


def _median_seconds(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


PHASES = {
    # name: (module, function) — timed around every call during one extra build
    "loan_statements": ("reporting.selectors.grouping", "run_together"),
    "loan_figures_portable": ("reporting.selectors.stats", "_loan_figures"),
    "loan_figures": ("reporting.selectors.stats", "_loan_figures_grouped"),
    "applicants": ("reporting.selectors.stats", "_applied_only_figures"),
    "claims": ("reporting.selectors.stats", "_claim_figures"),
    "recoveries": ("reporting.selectors.stats", "_recovery_figures"),
    "subsidies": ("reporting.selectors.stats", "_subsidy_figures"),
    "leverage_pool": ("reporting.selectors.stats", "_add_programme_figures"),
    "indicators": ("reporting.services", "indicators"),
}


def _phase_timings(monkeypatch, programme) -> dict[str, float]:
    """Build once more with the phases of ``PHASES`` timed (phases that did not run are left out)."""
    import importlib

    from reporting.services import snapshot_build

    spent: dict[str, float] = {}
    for name, (module_name, attr) in PHASES.items():
        module = importlib.import_module(module_name)
        original = getattr(module, attr)

        def timed(*args, _name=name, _original=original, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_name] = spent.get(_name, 0.0) + time.perf_counter() - started

        monkeypatch.setattr(module, attr, timed)
    started = time.perf_counter()
    snapshot_build(programme=programme, as_of=AS_OF, publish=False, source="bench-phases")
    spent["build"] = time.perf_counter() - started
    monkeypatch.undo()
    return spent


def test_snapshot_and_public_stats_benchmark(monkeypatch):
    from reporting.models import Snapshot
    from reporting.services import snapshot_build

    vendor = connection.vendor
    n = _loan_count(vendor)
    started = time.perf_counter()
    programme = _generate(n, vendor)
    print(f"\nBENCH snapshot_data_generation_s{_suffix(vendor, n)} {time.perf_counter() - started:.1f} s")

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL, [programme.pk, AS_OF])
            return cursor.fetchall()

    baseline()  # warm the cache for both
    snapshot_build(programme=programme, as_of=AS_OF, publish=False, source="bench")
    groupby = _median_seconds(baseline)
    build = _median_seconds(lambda: snapshot_build(programme=programme, as_of=AS_OF, publish=True, source="bench"))
    suffix = _suffix(vendor, n)
    print(f"BENCH snapshot_build_s{suffix} {build:.3f} s")
    print(f"BENCH snapshot_groupby_s{suffix} {groupby:.3f} s")
    print(f"BENCH snapshot_ratio{suffix} {build / groupby:.2f} x")
    assert Snapshot.objects.filter(status="published").count() == 3
    for name, seconds in _phase_timings(monkeypatch, programme).items():
        print(f"BENCH snapshot_phase_{name}_s{suffix} {seconds:.3f} s")

    # the public endpoint against a trivial one, interleaved, same client and process
    client = Client()
    stats_times, trivial_times = [], []
    for _ in range(20):
        client.get("/api/public/stats/")
        client.get("/healthz")
    for _ in range(300):
        t0 = time.perf_counter()
        response = client.get("/api/public/stats/?as_of=2022-06-30")
        t1 = time.perf_counter()
        trivial = client.get("/healthz")
        t2 = time.perf_counter()
        stats_times.append(t1 - t0)
        trivial_times.append(t2 - t1)
    assert response.status_code == 200
    assert trivial.status_code == 200
    assert response.json()["loans"] == n
    stats_ms, trivial_ms = statistics.median(stats_times) * 1000, statistics.median(trivial_times) * 1000
    db = "" if vendor == "postgresql" else f"_{vendor}"
    print(f"BENCH stats_latency_ms{db} {stats_ms:.2f} ms")
    print(f"BENCH trivial_latency_ms{db} {trivial_ms:.2f} ms")
    print(f"BENCH stats_latency_ratio{db} {stats_ms / trivial_ms:.2f} x")
