"""The scalar coercions shared by the response parsers and the webhook messages. Pure functions."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from integrations.cj.coercion import (
    ImplausibleValue,
    ParseError,
    named_options,
    optional_str,
    to_amount,
    to_amount_range,
    to_count,
    to_datetime,
    to_decimal,
    to_int,
    to_list,
    to_range,
    to_str,
    to_weight,
    to_weight_range,
)
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


@pytest.mark.parametrize(
    ("value", "expected"),
    [("4.21", Decimal("4.21")), (4.21, Decimal("4.21")), (7, Decimal("7")), ("0.01", Decimal("0.01")), (None, None)],
)
def test_amounts_in_range_are_read(value, expected):
    assert to_amount(value, field="variantSellPrice") == expected


@pytest.mark.parametrize(
    "value",
    ["1e999999", float("inf"), "Infinity", "NaN", float("nan"), "0", 0, "-2.10", "0.001", "1000000", "abc", True, [1]],
)
def test_amounts_not_finite_positive_or_below_the_bound_are_refused(value):
    with pytest.raises(ImplausibleValue) as refused:
        to_amount(value, field="variantSellPrice")

    assert refused.value.field == "variantSellPrice"
    assert str(refused.value).startswith("variantSellPrice is ")
    assert str(refused.value).endswith("expected an amount in [0.01, 1000000)")


def test_weights_allow_zero_and_refuse_the_absurd():
    assert (to_weight("0", field="w"), to_weight(120.5, field="w"), to_weight("", field="w")) == (
        Decimal("0"),
        Decimal("120.5"),
        None,
    )
    for value in ("-1", "1e999999", "NaN", "1000000"):
        with pytest.raises(ImplausibleValue):
            to_weight(value, field="w")


@pytest.mark.parametrize(("value", "expected"), [("12", 12), (3, 3), ("3.0", 3), (0, 0), (None, 5), ("", 5)])
def test_counts_are_whole_non_negative_numbers(value, expected):
    assert to_count(value, field="storageNum", default=5) == expected


@pytest.mark.parametrize("value", ["-1", -1, "2.5", "1e999999", "NaN", float("inf"), "1000000001", "x", False])
def test_counts_that_are_not_whole_non_negative_numbers_are_refused(value):
    with pytest.raises(ImplausibleValue, match=r"^storageNum is .*, expected a whole number in \[0, 1000000000\]$"):
        to_count(value, field="storageNum")


def test_bounded_ranges_check_every_part():
    assert to_amount_range("2.35-2.60", field="p") == DecimalRange(Decimal("2.35"), Decimal("2.60"))
    assert to_amount_range(None, field="p") is None
    assert to_weight_range("0-120", field="w") == DecimalRange(Decimal("0"), Decimal("120"))
    for value in ("2.35-1e999999", "-5", "2.35-abc", "NaN", "-"):
        with pytest.raises(ImplausibleValue):
            to_amount_range(value, field="p")


def test_an_implausible_value_is_a_parse_error_so_the_client_fails_the_call_as_permanent():
    assert issubclass(ImplausibleValue, ParseError)


# --- named variant options: productKeyEn names, variantKey values (CONTRACT §5, product/query) --


@pytest.mark.parametrize(
    ("names", "values", "expected"),
    [
        (("Color", "Size"), ("Black", "XL"), (("Color", "Black"), ("Size", "XL"))),
        (("Color",), ("Black",), (("Color", "Black"),)),
        # a colour with a dash: the surplus parts belong to the first option
        (("Color", "Size"), ("Rose", "Red", "XL"), (("Color", "Rose-Red"), ("Size", "XL"))),
        # CJ named fewer options than the variant has values
        ((), ("Black", "XL"), (("Option 1", "Black"), ("Option 2", "XL"))),
        (("Color",), (), ()),
        ((" Color ", ""), (" Black ",), (("Color", "Black"),)),
    ],
)
def test_named_options(names, values, expected):
    assert named_options(names, values) == expected
