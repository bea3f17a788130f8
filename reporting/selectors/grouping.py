"""PostgreSQL path of the loan figures: every breakdown from two statements run side by side.

The portable path (``stats._loan_figures``) runs one aggregate query per group of dimensions;
on a million loans the repeated scans, joins and per-row expressions dominate.  Here:

1. ``BorrowerMasks`` — the distinct enterprise counts (all and private), from the narrow loan
   columns only (no state, no join per loan): each enterprise's loans are folded into one bit
   mask (which banks, modes and signing months it borrowed in: ``bit_or`` over array look-ups,
   no per-row date arithmetic), then the enterprises are joined to their 市(州)/industry/size/
   private flag and counted per enterprise cell and per (private flag, bank mask), (private
   flag, mode mask), (private flag, month mask) — a few hundred rows whose bits Python adds up.
   Exact, with no COUNT(DISTINCT).
2. ``sums_statement`` — the additive sums (loans, principal, balances, rate × principal,
   principal not yet disbursed) of the per-loan expressions written by the ORM
   (``stats.loans_as_of``'s annotations), hashed once into two grouping sets: the enterprise
   cell (市(州), division, size, private) and (bank, mode, signing month).  Every other
   breakdown adds those up.  The same scan tells whether a loan was reported after the cut-off
   month (then the caller runs it again with the status-report look-up).

``run_together`` runs both as one UNION ALL that PostgreSQL hands to two parallel workers
(Gather → Parallel Append): one snapshot, the caller's transaction, the time of the longer one.
Results are identical to the portable path (``tests/reporting/test_grouping.py``).  ``tuned``
switches JIT off (compiling the large CASE expressions cost more than running them), gives the
hash tables room (work_mem) and prefers hash aggregation to sorting text keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection
from django.db.models import Case, ExpressionWrapper, F, QuerySet, Value, When

from fund.models import Loan
from registry.models import Enterprise

from .asof import MONEY_OUT, NONPERFORMING, OVERDUE, WEIGHTED_OUT

SETTINGS = (("jit", "off"), ("work_mem", "'128MB'"), ("enable_sort", "off"))
WORD_BITS = 62  # bits per bigint mask: clear of the sign bit
DENSE_BANK_IDS = 4096  # bank ids spread wider than this: a CASE instead of an array look-up
SUM_FIELDS = ("loans", "principal_sum", "outstanding", "overdue", "npl", "rate_x", "eff_x")
ENT_KEYS = ("region", "division", "size", "private")


@contextmanager
def tuned() -> Iterator[None]:
    """Inside the caller's transaction: no JIT, room for the hash tables; back to the server's
    settings afterwards.  On an error the caller's atomic block rolls back, which undoes SET LOCAL."""
    with connection.cursor() as cursor:
        for name, value in SETTINGS:
            cursor.execute(f"SET LOCAL {name} = {value}")
    yield
    with connection.cursor() as cursor:
        for name, _ in SETTINGS:
            cursor.execute(f"SET LOCAL {name} TO DEFAULT")


def _rows(sql: str, params) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_of(number: int) -> date:
    return date(number // 12, number % 12 + 1, 1)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass
class Masks:
    """Distinct enterprises: per enterprise cell, and per bank, mode and signing month."""

    cells: dict[tuple, dict] = field(default_factory=dict)  # (region, division, size, private) -> counts
    by_dim: dict[str, dict] = field(default_factory=dict)  # "bank"|"mode"|"month" -> key -> counts


@dataclass(frozen=True)
class _Bit:
    dim: str
    value: object  # bank id, mode, month number
    word: int
    bit: int


def _layout(*, bank_ids: list[int], modes: list[str], months: list[int]) -> list[_Bit]:
    """One bit per bank, mode and month, packed into as many bigint words as needed."""
    values = [("bank", b) for b in bank_ids] + [("mode", m) for m in modes] + [("month", m) for m in months]
    return [_Bit(dim, value, *divmod(i, WORD_BITS)) for i, (dim, value) in enumerate(values)]


def _word_sql(word: int, bits: list[_Bit], *, bank_base: int, bank_top: int, first: date, last: date
              ) -> tuple[str, list]:
    """The per-loan bits of one mask word: array look-ups by bank id and by signing day, a CASE by mode."""
    mine = [b for b in bits if b.word == word]
    parts, params = [], []
    banks = {b.value: 1 << b.bit for b in mine if b.dim == "bank"}
    if banks and bank_top - bank_base < DENSE_BANK_IDS:
        parts.append("COALESCE((%s::bigint[])[t.k_bank - %s + 1], 0)")
        params += [[banks.get(i, 0) for i in range(bank_base, bank_top + 1)], bank_base]
    elif banks:  # sparse bank ids: a CASE rather than a long array
        parts.append("CASE t.k_bank " + " ".join("WHEN %s THEN %s::bigint" for _ in banks) + " ELSE 0 END")
        params += [x for pair in banks.items() for x in pair]
    modes = [(b.value, 1 << b.bit) for b in mine if b.dim == "mode"]
    if modes:
        parts.append("CASE t.k_mode " + " ".join("WHEN %s THEN %s::bigint" for _ in modes) + " ELSE 0 END")
        params += [x for pair in modes for x in pair]
    months = {b.value: 1 << b.bit for b in mine if b.dim == "month"}
    if months:
        parts.append("COALESCE((%s::bigint[])[t.k_signed - %s::date + 1], 0)")
        params += [[months.get(month_number(d), 0) for d in _days(first, last)], first]
    return " | ".join(parts) or "0::bigint", params


@dataclass
class Statement:
    """One aggregate statement: its SQL, parameters and output columns (name → SQL type)."""

    sql: str
    params: list
    columns: dict[str, str]


MASK_COLUMNS = {"g_ent": "int", "g_set": "int", "region": "text", "division": "text", "size": "text",
                "private": "boolean", "mask": "bigint", "n": "bigint"}
SUM_COLUMNS = {"g_ent": "int", "region": "text", "division": "text", "size": "text", "private": "boolean",
               "bank": "bigint", "mode": "text", "month": "int", "loans": "bigint", "principal_sum": "numeric",
               "outstanding": "numeric", "overdue": "numeric", "npl": "numeric", "rate_x": "numeric",
               "eff_x": "numeric", "undisbursed": "numeric", "stale": "boolean"}


class BorrowerMasks:
    """Distinct enterprises (all and private) per enterprise cell and per bank, mode and month, from
    one scan of the narrow loan columns (``statement``), added up in Python (``decode``)."""

    def __init__(self, light: QuerySet[Loan], *, bank_ids: list[int], modes: list[str], first: date, last: date):
        months = list(range(month_number(first), month_number(last) + 1))
        self.layout = _layout(bank_ids=bank_ids, modes=modes, months=months)
        self.parts = sorted({(b.word, b.dim) for b in self.layout})  # one grouping set per (word, dimension)
        self.light, self.bank_ids, self.first, self.last = light, bank_ids, first, last

    def statement(self) -> Statement:
        layout, parts = self.layout, self.parts
        bank_base, bank_top = min(self.bank_ids, default=0), max(self.bank_ids, default=0)
        narrow, narrow_params = self.light.values(
            k_ent=F("enterprise_id"), k_bank=F("bank_id"), k_mode=F("mode"), k_signed=F("signed_on"),
        ).order_by().query.sql_with_params()
        folds, fold_params = [], []
        for w in sorted({b.word for b in layout}) or [0]:
            expr, params = _word_sql(w, layout, bank_base=bank_base, bank_top=bank_top, first=self.first,
                                     last=self.last)
            folds.append(f"bit_or({expr}) AS m_{w}")
            fold_params += params
        keys, key_params, sets = [], [], [f"({', '.join(ENT_KEYS)})"]
        for i, (w, dim) in enumerate(parts):
            keys.append(f"b.m_{w} & %s AS k_{i}")
            key_params.append(sum(1 << b.bit for b in layout if b.word == w and b.dim == dim))
            sets.append(f"(private, k_{i})")
        if parts:
            g_set = "CASE " + " ".join(f"WHEN GROUPING(k_{i}) = 0 THEN {i}" for i in range(len(parts))) + " END"
            mask = f"COALESCE({', '.join(f'k_{i}' for i in range(len(parts)))})"
        else:
            g_set, mask = "NULL::int", "NULL::bigint"
        enterprise = Enterprise._meta.db_table
        sql = (
            f"SELECT GROUPING(region) AS g_ent, {g_set} AS g_set, region, division, size, private, "  # noqa: S608
            f"{mask} AS mask, COUNT(*) AS n FROM ("
            "SELECT e.region_id AS region, e.industry_id AS division, e.size_class AS size, e.is_private AS private"
            f"{''.join(', ' + k for k in keys)} FROM ("
            f"SELECT t.k_ent, {', '.join(folds)} FROM ({narrow}) t GROUP BY t.k_ent"
            f") b JOIN {enterprise} e ON e.id = b.k_ent) x GROUP BY GROUPING SETS ({', '.join(sets)})"
        )
        return Statement(sql, [*key_params, *fold_params, *narrow_params], MASK_COLUMNS)

    def decode(self, rows: list[dict]) -> Masks:
        by_bit = {(b.word, b.bit): b for b in self.layout}
        out = Masks(by_dim={"bank": {}, "mode": {}, "month": {}})
        for row in rows:
            n, private = int(row["n"]), bool(row["private"])
            if row["g_ent"] == 0:
                key = (row["region"], row["division"], row["size"], private)
                out.cells[key] = {"borrowers": n, "private_borrowers": n if private else 0}
                continue
            w, mask = self.parts[row["g_set"]][0], int(row["mask"] or 0)
            while mask:
                low = mask & -mask
                b = by_bit[(w, low.bit_length() - 1)]
                key = month_of(b.value) if b.dim == "month" else b.value
                acc = out.by_dim[b.dim].setdefault(key, {"borrowers": 0, "private_borrowers": 0})
                acc["borrowers"] += n
                if private:
                    acc["private_borrowers"] += n
                mask ^= low
        return out


def sums_statement(qs: QuerySet[Loan], *, first: date, last: date, as_of: date, cutoff_month: date) -> Statement:
    """The additive sums of the per-loan expressions in two grouping sets: the enterprise cell and
    (bank, mode, signing month); one scan.

    ``undisbursed`` is the principal of loans signed but not yet disbursed by ``as_of``: the
    leverage (R4) counts principal disbursed, ``principal_sum − undisbursed`` per bank.  ``stale``
    tells whether a loan was reported after ``cutoff_month`` (then ``qs`` must look its state up).
    """
    per_loan = qs.values(
        k_region=F("enterprise__region_id"), k_division=F("enterprise__industry_id"),
        k_size=F("enterprise__size_class"), k_private=F("enterprise__is_private"),
        k_bank=F("bank_id"), k_mode=F("mode"), k_signed=F("signed_on"), k_disbursed=F("disbursed_on"),
        k_reported=F("last_report_month"),
        v_principal=F("principal"), v_outstanding=F("s_outstanding"),
        v_overdue=Case(When(OVERDUE, then=F("s_outstanding")), default=Value(0), output_field=MONEY_OUT),
        v_npl=Case(When(NONPERFORMING, then=F("s_outstanding")), default=Value(0), output_field=MONEY_OUT),
        v_rate_x=ExpressionWrapper(F("principal") * F("annual_rate"), output_field=WEIGHTED_OUT),
        v_eff_x=ExpressionWrapper(F("principal") * (F("annual_rate") - F("s_subsidy_rate")), output_field=WEIGHTED_OUT),
    ).order_by()
    inner, params = per_loan.query.sql_with_params()
    month_by_day = [month_number(d) for d in _days(first, last)]
    sql = (
        "SELECT GROUPING(k_region, k_division, k_size, k_private) AS g_ent, k_region AS region, "  # noqa: S608
        "k_division AS division, k_size AS size, k_private AS private, k_bank AS bank, k_mode AS mode, "
        "k_month AS month, COUNT(*) AS loans, SUM(v_principal) AS principal_sum, SUM(v_outstanding) AS outstanding, "
        "SUM(v_overdue) AS overdue, SUM(v_npl) AS npl, SUM(v_rate_x) AS rate_x, SUM(v_eff_x) AS eff_x, "
        "SUM(v_principal) FILTER (WHERE k_disbursed > %s) AS undisbursed, bool_or(k_reported > %s) AS stale "
        f"FROM (SELECT t.*, (%s::int[])[t.k_signed - %s::date + 1] AS k_month FROM ({inner}) t) u "
        "GROUP BY GROUPING SETS ((k_region, k_division, k_size, k_private), (k_bank, k_mode, k_month))"
    )
    return Statement(sql, [as_of, cutoff_month, month_by_day, first, *params], SUM_COLUMNS)


def run_together(statements: dict[str, Statement]) -> dict[str, list[dict]]:
    """Run independent statements as one: a UNION ALL whose branches PostgreSQL may hand to separate
    parallel workers (Gather → Parallel Append), so they run at the same time on one snapshot,
    inside the caller's transaction (workers see its uncommitted rows too).  Without free workers
    the leader runs them one after the other: same result."""
    if len(statements) == 1:
        (name, st), = statements.items()
        return {name: _rows(st.sql, st.params)}
    columns: dict[str, str] = {}
    for st in statements.values():
        columns.update(st.columns)
    branches, params = [], []
    for i, st in enumerate(statements.values()):
        # the same type in every branch, so that PostgreSQL flattens the UNION ALL into one Append
        cols = ", ".join(f"{f'x.{c}' if c in st.columns else 'NULL'}::{t} AS {c}" for c, t in columns.items())
        branches.append(f"SELECT {i} AS part, {cols} FROM ({st.sql}) x")  # noqa: S608 - built from model metadata
        params += st.params
    names = list(statements)
    out: dict[str, list[dict]] = {name: [] for name in names}
    for row in _rows(" UNION ALL ".join(branches), params):
        out[names[row.pop("part")]].append(row)
    return out
