"""``cells.cached``: a memoised parser answers exactly as the parser, per type and value, errors too."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banks.intake import cells
from registry.rules import RuleError

values = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-3, 3, allow_nan=False),
                   st.sampled_from(["1", "1.00", " ", "是", "否", "x", "１，０００"]))


def _outcome(parse, value):
    try:
        result = parse(value)
    except RuleError as exc:
        return "error", exc.code, exc.message
    except Exception as exc:  # the parser's own failures must come through unchanged
        return "raised", type(exc).__name__
    return "value", type(result).__name__, result


@given(st.lists(values, max_size=30))
def test_a_cached_parser_answers_as_the_parser_in_any_order(seq):
    for parser in (cells.parse_amount, cells.parse_bool, cells.parse_code):
        memoised = cells.cached(parser)
        for value in seq:
            assert _outcome(memoised, value) == _outcome(parser, value)


def test_equal_values_of_different_types_are_parsed_apart():
    parse = cells.cached(cells.parse_amount)
    assert parse(1.0) == Decimal("1.00")
    with pytest.raises(RuleError):
        parse(True)  # equal to 1.0 as a dict key, but a yes/no cell is not an amount
    assert parse(1) == Decimal("1.00")


def test_an_unhashable_value_is_parsed_each_time():
    calls = []
    parse = cells.cached(lambda value: calls.append(value) or len(value))
    assert parse([1, 2]) == 2
    assert parse([1, 2]) == 2
    assert calls == [[1, 2], [1, 2]]
