"""The scalar coercions shared by the response parsers and the webhook messages. Pure functions."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from integrations.cj.coercion import optional_str, to_datetime, to_decimal, to_int, to_list, to_range, to_str
from integrations.cj.types import DecimalRange


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.35", ("2.35", "2.35")),
        (2.6, ("2.6", "2.6")),
        ("2.35-2.60", ("2.35", "2.60")),
        ("2.09 -- 7.46", ("2.09", "7.46")),
        ("8.13-10.00", ("8.13", "10.00")),
        ("", None),
        ("n/a", None),
        (None, None),
    ],
)
def test_ranges(value, expected):
    parsed = to_range(value)

    assert parsed == (DecimalRange(Decimal(expected[0]), Decimal(expected[1])) if expected else None)


@pytest.mark.parametrize(("value", "expected"), [("2.35-abc", None), ("-", None), (" 1.5 ~ 0.5 ", ("0.5", "1.5"))])
def test_range_with_a_part_that_is_not_a_number(value, expected):
    parsed = to_range(value)

    assert parsed == (DecimalRange(Decimal(expected[0]), Decimal(expected[1])) if expected else None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4.21", Decimal("4.21")),
        (4.21, Decimal("4.21")),
        (7, Decimal("7")),
        (" 0.50 ", Decimal("0.50")),
        (True, None),
        ("NaN", None),
        ("Infinity", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_decimals(value, expected):
    assert to_decimal(value) == expected


def test_ints_strings_and_lists():
    assert (to_int("12"), to_int(3.9), to_int(None), to_int("x", 5)) == (12, 3, 0, 5)
    assert (to_str(2408300610371613201), to_str(None), optional_str("  "), optional_str(" a ")) == (
        "2408300610371613201",
        "",
        None,
        "a",
    )
    assert (to_list(["a"]), to_list('["a", "b"]'), to_list("[broken"), to_list('{"a": 1}'), to_list(None)) == (
        ["a"],
        ["a", "b"],
        [],
        [],
        [],
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1725163800000, datetime(2024, 9, 1, 4, 10, tzinfo=UTC)),
        ("1725163800000", datetime(2024, 9, 1, 4, 10, tzinfo=UTC)),
        ("2024-09-01 04:10:00", datetime(2024, 9, 1, 4, 10, tzinfo=UTC)),
        ("2024-09-01T12:10:00+08:00", datetime(2024, 9, 1, 12, 10, tzinfo=timezone(timedelta(hours=8)))),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_datetimes(value, expected):
    assert to_datetime(value) == expected
