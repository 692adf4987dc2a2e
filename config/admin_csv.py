"""Streaming CSV exports for admin actions, safe to open in a spreadsheet."""

import csv
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

# A cell starting with one of these is a formula to a spreadsheet: prefix it with a quote.
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(CSV_FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream_response(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, filename: str
) -> StreamingHttpResponse:
    """Stream `header` then `rows` as a CSV attachment named `<filename>-<UTC timestamp>.csv`."""
    writer = csv.writer(_Echo())

    def lines() -> Iterable[str]:
        yield writer.writerow(list(header))
        for row in rows:
            yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response
