"""Scalars as CJ sends them (numbers as strings, ranges, epoch milliseconds) coerced to our types.

Shared by the response parsers (`integrations.cj.responses`) and the webhook messages, which carry
the same loosely typed fields. Every function is total: a value it cannot read becomes None (or the
given default), never an exception; the caller decides whether a missing value is an error.
"""

import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.cj.types import DecimalRange

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
