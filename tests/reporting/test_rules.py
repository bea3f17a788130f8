"""reporting.rules: weighted averages, percentages, the effective rate and R41 suppression."""

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from reporting import rules
from reporting.rules import COMPLEMENTARY, PRIMARY, Cell


def test_weighted_rate_is_the_amount_weighted_average_rounded_half_up():
    # 1,000,000 at 4.35 and 3,000,000 at 4.00: (4,350,000 + 12,000,000) / 4,000,000 = 4.0875
    assert rules.weighted_rate(Decimal("16350000"), Decimal("4000000")) == Decimal("4.09")
    assert rules.weighted_rate(0, 0) is None


def test_percent_has_two_decimals_and_none_without_a_base():
    assert rules.percent(191, 204) == Decimal("93.63")
    assert rules.percent(1, 0) is None


def test_effective_rate_subtracts_only_the_interest_subsidy_at_the_reference_rate():
    # the pilot: 4.35 % − 30 % × 3.70 % = 3.24 %
    rate = rules.effective_rate(contract_rate=Decimal("4.35"), share_percent=Decimal("30"),
                                reference_rate=Decimal("3.70"), subsidised=True)
    assert rate == Decimal("3.24")


def test_effective_rate_of_a_loan_never_subsidised_is_its_contract_rate():
    assert rules.effective_rate(contract_rate=Decimal("4.35"), share_percent=Decimal("30"),
                                reference_rate=Decimal("3.70"), subsidised=False) == Decimal("4.35")


def test_report_for_a_month_is_due_on_the_tenth_of_the_next_month():
    assert rules.report_due_date(date(2022, 4, 1)) == date(2022, 5, 10)
    assert rules.report_due_date(date(2021, 12, 1)) == date(2022, 1, 10)


def test_monthly_snapshot_cut_off_is_the_last_day_of_the_previous_month():
    assert rules.previous_month_end(date(2022, 6, 11)) == date(2022, 5, 31)
    assert rules.previous_month_end(date(2022, 3, 11)) == date(2022, 2, 28)


def test_a_cell_with_one_or_two_enterprises_is_suppressed():
    hidden = rules.suppressed_cells([Cell("a", 1), Cell("b", 2), Cell("c", 3), Cell("d", 10)], minimum=3)
    assert hidden == {"a": PRIMARY, "b": PRIMARY}


def test_a_single_suppressed_cell_takes_the_next_smallest_with_it():
    hidden = rules.suppressed_cells(
        [Cell("a", 2, Decimal(5)), Cell("b", 9, Decimal(1)), Cell("c", 4, Decimal(7)), Cell("d", 4, Decimal(3))],
        minimum=3,
    )
    assert hidden == {"a": PRIMARY, "d": COMPLEMENTARY}


def test_no_suppression_when_every_cell_is_large_enough():
    assert rules.suppressed_cells([Cell("a", 3), Cell("b", 30)], minimum=3) == {}


def test_suppression_labels():
    assert rules.suppression_label(PRIMARY, minimum=3) == "<3"
    assert rules.suppression_label(COMPLEMENTARY, minimum=3) == "*"
    assert rules.suppression_label(None, minimum=3) is None


@given(st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=25), st.integers(2, 5))
def test_no_hidden_cell_can_be_derived_from_the_total_minus_the_others(counts, minimum):
    cells = [Cell(i, n, Decimal(n * 1000 + i)) for i, n in enumerate(counts)]
    hidden = rules.suppressed_cells(cells, minimum=minimum)
    # every small cell is hidden
    assert all(c.key in hidden for c in cells if c.enterprises < minimum)
    # a row with a hidden cell hides at least two (or all of them, when it has one cell)
    if hidden:
        assert len(hidden) >= 2 or len(cells) == 1
    # only the small cells and at most one complementary cell are hidden
    assert sum(1 for v in hidden.values() if v == COMPLEMENTARY) <= 1


@given(st.lists(st.decimals(min_value=1, max_value=10_000_000, places=2), min_size=1, max_size=20),
       st.decimals(min_value=1, max_value=10, places=2))
def test_weighted_rate_of_equal_rates_is_that_rate(amounts, rate):
    weighted = sum(a * rate for a in amounts)
    assert rules.weighted_rate(weighted, sum(amounts)) == rate.quantize(Decimal("0.01"))


def test_rollup_adds_fields_by_key_and_drops_none_keys():
    rows = [{"k": "a", "x": 1, "y": Decimal("2.5")}, {"k": "a", "x": 2, "y": None}, {"k": None, "x": 5}]
    assert rules.rollup(rows, key=lambda r: r["k"], sums=("x", "y")) == {"a": {"x": 3, "y": Decimal("2.5")}}
