"""Scalars as CJ sends them (numbers as strings, ranges, epoch milliseconds) coerced to our types.

Shared by the response parsers (`integrations.cj.responses`) and the webhook messages, which carry
the same loosely typed fields. The plain readers (`to_decimal`, `to_range`, `to_int`, ...) are total:
a value they cannot read becomes None (or the given default), never an exception. The bounded
readers (`to_amount`, `to_weight`, `to_count` and their ranges) are for the figures we store and
sell by: a missing value is None, but a value that is present and not a finite number in its sane
range raises `ImplausibleValue`, which every caller treats as permanent (retrying reads the same
figure again).
"""

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.cj.types import DecimalRange

# Far above anything CJ sells or ships; a figure beyond is a corrupt or hostile payload.
MIN_AMOUNT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000")
MAX_WEIGHT_GRAMS = Decimal("1000000")
MAX_COUNT = 1_000_000_000  # below PostgreSQL's integer limit


class ParseError(ValueError):
    """CJ sent a payload we cannot map (a required field is missing or malformed)."""


class ImplausibleValue(ParseError):
    """A figure from CJ that is present but not a finite number in its sane range (a permanent error)."""

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field = field
        super().__init__(f"{field} is {str(value)[:40]!r}, expected {expected}")


# "2.35-2.60", "2.09 -- 7.46", "1~2": a dash followed by a digit separates, a leading minus does not.
_RANGE_SEPARATOR = re.compile(r"\s*(?:--|~|-(?=\s*\d))\s*")


def to_decimal(value: Any) -> Decimal | None:
    """A money or weight value as Decimal; None for null, "" or something unparseable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def to_range(value: Any) -> DecimalRange | None:
    """A price or weight that may be a number, a string or a range string, as a DecimalRange.

    None when the value is missing or any part of the range is not a number.
    """
    if value is None:
        return None
    text = str(value if not isinstance(value, float) else repr(value)).strip()
    if not text:
        return None
    numbers: list[Decimal] = []
    for part in _RANGE_SEPARATOR.split(text):
        if not part:
            continue
        number = to_decimal(part)
        if number is None:
            return None
        numbers.append(number)
    if not numbers:
        return None
    return DecimalRange(low=min(numbers), high=max(numbers))


def to_int(value: Any, default: int = 0) -> int:
    """An integer CJ may send as a number or a string; `default` when missing."""
    number = to_decimal(value)
    return int(number) if number is not None else default


def to_str(value: Any) -> str:
    """An id or text as a string ("" for null); ints stay exact (big ids)."""
    if value is None:
        return ""
    return str(value)


def optional_str(value: Any) -> str | None:
    """An id or text as a stripped string, or None when it is null or blank."""
    text = to_str(value).strip()
    return text or None


def to_datetime(value: Any) -> datetime | None:
    """Epoch milliseconds, ISO-8601 (with offset) or "yyyy-MM-dd HH:mm:ss" (UTC) as an aware datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_list(value: Any) -> list[Any]:
    """A list CJ sends either as a list or as a JSON string ("[\"a\",\"b\"]"); [] otherwise."""
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            decoded = json.loads(value)
        except ValueError:
            return []
        return decoded if isinstance(decoded, list) else []
    return []


def _bounded(value: Any, *, field: str, low: Decimal, high: Decimal, low_inclusive: bool, expected: str) -> Decimal:
    if isinstance(value, bool):
        raise ImplausibleValue(field, value, expected)
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ImplausibleValue(field, value, expected) from None
    # Comparisons with NaN raise, so finiteness is checked first.
    if not number.is_finite() or number >= high or number < low or (number == low and not low_inclusive):
        raise ImplausibleValue(field, value, expected)
    return number


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def to_amount(value: Any, *, field: str) -> Decimal | None:
    """A cost or price: None when missing; ImplausibleValue unless at least a cent and below MAX_AMOUNT.

    (We store cents: a positive amount below one would be stored as a free item.)
    """
    if _missing(value):
        return None
    return _bounded(
        value,
        field=field,
        low=MIN_AMOUNT,
        high=MAX_AMOUNT,
        low_inclusive=True,
        expected=f"an amount in [{MIN_AMOUNT}, {MAX_AMOUNT})",
    )


def to_fee(value: Any, *, field: str) -> Decimal | None:
    """A shipping fee (free shipping is 0): None when missing; ImplausibleValue unless a number >= 0
    below MAX_AMOUNT."""
    if _missing(value):
        return None
    return _bounded(
        value, field=field, low=Decimal(0), high=MAX_AMOUNT, low_inclusive=True, expected=f"a fee in [0, {MAX_AMOUNT})"
    )


def to_weight(value: Any, *, field: str) -> Decimal | None:
    """A weight in grams: None when missing; ImplausibleValue unless a number >= 0 below MAX_WEIGHT_GRAMS."""
    if _missing(value):
        return None
    return _bounded(
        value,
        field=field,
        low=Decimal(0),
        high=MAX_WEIGHT_GRAMS,
        low_inclusive=True,
        expected=f"a weight in [0, {MAX_WEIGHT_GRAMS}) grams",
    )


def to_count(value: Any, *, field: str, default: int = 0) -> int:
    """A stock figure: `default` when missing; ImplausibleValue unless a whole number in [0, MAX_COUNT]."""
    if _missing(value):
        return default
    expected = f"a whole number in [0, {MAX_COUNT}]"
    number = _bounded(
        value, field=field, low=Decimal(0), high=Decimal(MAX_COUNT + 1), low_inclusive=True, expected=expected
    )
    if number != number.to_integral_value():
        raise ImplausibleValue(field, value, expected)
    return int(number)


def _bounded_range(value: Any, read: Any, *, field: str) -> DecimalRange | None:
    if _missing(value):
        return None
    text = str(value if not isinstance(value, float) else repr(value)).strip()
    if text.startswith("-"):  # the range separator would read "-5" as 5
        raise ImplausibleValue(field, value, "a number or a range of positive numbers")
    numbers = [read(part, field=field) for part in _RANGE_SEPARATOR.split(text) if part]
    if not numbers or None in numbers:
        raise ImplausibleValue(field, value, "a number or a range of numbers")
    return DecimalRange(low=min(numbers), high=max(numbers))


def to_amount_range(value: Any, *, field: str) -> DecimalRange | None:
    """A price that may be a range ("2.35-2.60"): None when missing; ImplausibleValue when any part is
    not an amount (see `to_amount`)."""
    return _bounded_range(value, to_amount, field=field)


def to_weight_range(value: Any, *, field: str) -> DecimalRange | None:
    """A weight that may be a range: None when missing; ImplausibleValue when any part is not a weight."""
    return _bounded_range(value, to_weight, field=field)


def named_options(names: Sequence[str], values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """A variant's options as (name, value) pairs: the product's `productKeyEn` ("Color-Size")
    gives the names, the variant's `variantKey` ("Black-XL") the values, both split on "-".

    A value may hold a dash itself ("Rose-Red-XL" under "Color-Size"): the surplus parts belong to
    the first option, the last ones keep their one part each (sizes and counts have no dash,
    colours often do). Values without a name (CJ sent fewer names) are named "Option 2", ...
    """
    names = [name.strip() for name in names if name.strip()]
    values = [value.strip() for value in values if value.strip()]
    if not values:
        return ()
    if names and len(values) > len(names):
        surplus = len(values) - len(names) + 1
        values = ["-".join(values[:surplus]), *values[surplus:]]
    return tuple(
        (names[index] if index < len(names) else f"Option {index + 1}", value) for index, value in enumerate(values)
    )
