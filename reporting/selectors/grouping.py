"""PostgreSQL path of the loan figures: every breakdown from two scans of the loans (GROUPING SETS).

The portable path (``stats._loan_figures``) runs one aggregate query per group of dimensions;
on a million loans the repeated scans, joins and per-row expressions dominate.  Here the per-loan
expressions are written by the ORM (the same ``loans_as_of`` queryset) and wrapped in two
statements that group them once into every dimension:

1. the additive sums (loans, principal, balances, rate × principal) — hashed grouping sets, no
   DISTINCT, so PostgreSQL can aggregate in parallel;
2. the distinct enterprise counts (all and private): each enterprise's loans folded into bit
   masks of banks, modes and months, then counted per enterprise cell (``borrower_masks``).

Results are identical to the portable path (``tests/reporting/test_grouping.py``).  The build also
switches JIT off for its transaction: compiling the large CASE expressions cost more than running
them; raises work_mem so the grouping stays in memory; and prefers hash aggregation (the planner
cannot know that a million loans fall into a few thousand cells, and sorting text keys is slow).
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection
from django.db.models import Case, ExpressionWrapper, F, QuerySet, Value, When
from django.db.models.functions import TruncMonth

from fund.models import Loan
from registry.models import Enterprise

from .asof import MONEY_OUT, NONPERFORMING, OVERDUE, WEIGHTED_OUT

KEYS = ("k_region", "k_division", "k_size", "k_private", "k_bank", "k_mode", "k_month")
SETS = "GROUPING SETS ((k_region, k_division, k_size, k_private), (k_bank), (k_mode), (k_month))"
FLAGS = ("GROUPING(k_region, k_division, k_size, k_private) AS g_ent, GROUPING(k_bank) AS g_bank, "
         "GROUPING(k_mode) AS g_mode, GROUPING(k_month) AS g_month")
SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '128MB'", "SET LOCAL enable_sort = off",
            "SET LOCAL max_parallel_workers_per_gather = 0")


def _keys() -> dict:
    return {
        "k_region": F("enterprise__region_id"), "k_division": F("enterprise__industry_id"),
        "k_size": F("enterprise__size_class"), "k_private": F("enterprise__is_private"),
        "k_bank": F("bank_id"), "k_mode": F("mode"), "k_month": TruncMonth("signed_on"),
    }


def tune_connection() -> None:
    """Inside the caller's transaction: no JIT, room for the hash tables (PostgreSQL only)."""
    with connection.cursor() as cursor:
        for statement in SETTINGS:
            cursor.execute(statement)


def restore_connection() -> None:
    """Back to the server's settings for the rest of the caller's transaction."""
    with connection.cursor() as cursor:
        for statement in SETTINGS:
            name = statement.split()[2]
            cursor.execute(f"SET LOCAL {name} TO DEFAULT")


def _rows(sql: str, params) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _set_of(row: dict) -> str:
    for flag, name in (("g_ent", "ent"), ("g_bank", "bank"), ("g_mode", "mode"), ("g_month", "month")):
        if row[flag] == 0:
            return name
    raise ValueError(row)


def _sums(qs: QuerySet[Loan]) -> list[dict]:
    per_loan = qs.values(
        **_keys(),
        v_principal=F("principal"), v_outstanding=F("s_outstanding"),
        v_overdue=Case(When(OVERDUE, then=F("s_outstanding")), default=Value(0), output_field=MONEY_OUT),
        v_npl=Case(When(NONPERFORMING, then=F("s_outstanding")), default=Value(0), output_field=MONEY_OUT),
        v_rate_x=ExpressionWrapper(F("principal") * F("annual_rate"), output_field=WEIGHTED_OUT),
        v_eff_x=ExpressionWrapper(F("principal") * (F("annual_rate") - F("s_subsidy_rate")), output_field=WEIGHTED_OUT),
    ).order_by()
    inner, params = per_loan.query.sql_with_params()
    keys = ", ".join(KEYS)
    # First the finest cells (a plain GROUP BY: PostgreSQL aggregates it in parallel), then the
    # grouping sets over those few thousand rows.
    return _rows(
        f"SELECT {FLAGS}, {keys}, SUM(loans) AS loans, SUM(principal_sum) AS principal_sum, "  # noqa: S608
        "SUM(outstanding) AS outstanding, SUM(overdue) AS overdue, SUM(npl) AS npl, SUM(rate_x) AS rate_x, "
        f"SUM(eff_x) AS eff_x FROM (SELECT {keys}, COUNT(*) AS loans, SUM(v_principal) AS principal_sum, "
        "SUM(v_outstanding) AS outstanding, SUM(v_overdue) AS overdue, SUM(v_npl) AS npl, "
        f"SUM(v_rate_x) AS rate_x, SUM(v_eff_x) AS eff_x FROM ({inner}) t GROUP BY {keys}) f GROUP BY {SETS}",
        params,
    )


def _chunks(values: list, size: int = 62) -> list[list]:
    return [values[i:i + size] for i in range(0, len(values), size)] or [[]]


def _month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


def borrower_masks(light: QuerySet[Loan], *, bank_ids: list[int], modes: list[str], first: date, last: date
                   ) -> tuple[list[dict], dict[str, dict]]:
    """Distinct enterprises per enterprise cell and per bank, mode and month, in one pass.

    Each enterprise's loans are folded into bit masks (which banks, modes and signing months it
    borrowed in: ``bit_or``), then the enterprises are counted per (市(州), division, size,
    private) cell with one sum per bit.  Exact, with no COUNT(DISTINCT).
    Returns (enterprise cell rows, {"bank"|"mode"|"month": {key: {"borrowers", "private_borrowers"}}}).
    """
    months = list(range(_month_number(first), _month_number(last) + 1))
    dims = {"bank": bank_ids, "mode": modes, "month": months}
    narrow, params = light.values(
        k_ent=F("enterprise_id"), k_bank=F("bank_id"), k_mode=F("mode"), k_signed=F("signed_on"),
    ).order_by().query.sql_with_params()
    base = {"bank": min(bank_ids, default=0), "month": months[0] if months else 0}
    value_sql = {
        "bank": "t.k_bank",
        "mode": "CASE t.k_mode " + " ".join(f"WHEN '{m}' THEN {i}" for i, m in enumerate(modes)) + " END",
        "month": "(EXTRACT(YEAR FROM t.k_signed)::int * 12 + EXTRACT(MONTH FROM t.k_signed)::int - 1)",
    }
    folds, sums, columns = [], [], []
    params = list(params)
    fold_params: list = []
    for dim, values in dims.items():
        if dim == "mode":
            values = list(range(len(modes)))
        offset = base.get(dim, 0)
        dense = not values or max(values) - offset < 62 * len(_chunks(values))
        for c, chunk in enumerate(_chunks(values)):
            mask = f"m_{dim}_{c}"
            if dense:
                # bit (value − offset) of chunk c: plain arithmetic, no array search per row
                low = offset + 62 * c
                folds.append(f"bit_or(CASE WHEN ({value_sql[dim]} - %s) BETWEEN 0 AND 61 "
                             f"THEN 1::bigint << ({value_sql[dim]} - %s)::int ELSE 0 END) AS {mask}")
                fold_params += [low, low]
                positions = {v: v - low for v in values if 0 <= v - low < 62}
            else:
                folds.append(f"bit_or(COALESCE(1::bigint << (array_position(%s::int[], {value_sql[dim]}) - 1), 0)) "
                             f"AS {mask}")
                fold_params.append(chunk)
                positions = {v: i for i, v in enumerate(chunk)}
            for value, bit in positions.items():
                column = f"c_{dim}_{c}_{bit}"
                sums.append(f"SUM(({mask} >> {bit}) & 1) AS {column}")
                columns.append((dim, modes[value] if dim == "mode" else value, column))
    enterprise = Enterprise._meta.db_table
    sql = (
        "SELECT e.region_id AS region, e.industry_id AS division, e.size_class AS size, "  # noqa: S608 - ORM SQL
        f"e.is_private AS private, COUNT(*) AS borrowers, {', '.join(sums)} "
        f"FROM (SELECT t.k_ent, {', '.join(folds)} FROM ({narrow}) t GROUP BY t.k_ent) b "
        f"JOIN {enterprise} e ON e.id = b.k_ent GROUP BY 1, 2, 3, 4"
    )
    rows = _rows(sql, fold_params + params)
    by_dim: dict[str, dict] = {dim: {} for dim in dims}
    cells = []
    for row in rows:
        private = bool(row["private"])
        cells.append({"region": row["region"], "division": row["division"], "size": row["size"],
                      "private": private, "borrowers": row["borrowers"],
                      "private_borrowers": row["borrowers"] if private else 0})
        for dim, value, column in columns:
            n = int(row[column] or 0)
            if not n:
                continue
            key = date(value // 12, value % 12 + 1, 1) if dim == "month" else value
            acc = by_dim[dim].setdefault(key, {"borrowers": 0, "private_borrowers": 0})
            acc["borrowers"] += n
            if private:
                acc["private_borrowers"] += n
    return cells, by_dim


def loan_rows(qs: QuerySet[Loan], light: QuerySet[Loan], *, bank_ids: list[int], modes: list[str],
              first: date, last: date) -> list[dict]:
    """Rows ``{"set": "ent"|"bank"|"mode"|"month", keys…, sums…, borrowers, private_borrowers}``."""
    cells, by_dim = borrower_masks(light, bank_ids=bank_ids, modes=modes, first=first, last=last)
    counts = {("ent", c["region"], c["division"], c["size"], c["private"]): c for c in cells}
    out = []
    for row in _sums(qs):
        if isinstance(row["k_month"], datetime):  # raw SQL: DATE_TRUNC gives a timestamp
            row["k_month"] = row["k_month"].date()
        kind = _set_of(row)
        if kind == "ent":
            found = counts.get(("ent", row["k_region"], row["k_division"], row["k_size"], row["k_private"]), {})
        else:
            key = row[f"k_{kind}"]
            found = by_dim[kind].get(key, {})
        out.append({"set": kind, **{k[2:]: row[k] for k in KEYS},
                    **{k: row[k] for k in ("loans", "principal_sum", "outstanding", "overdue", "npl", "rate_x",
                                           "eff_x")},
                    "borrowers": found.get("borrowers", 0), "private_borrowers": found.get("private_borrowers", 0)})
    return out
