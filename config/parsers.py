"""The API's JSON parser: DRF's, plus the bodies DRF's own lets through as a 500.

Python's decoder recurses once per nesting level, so a few kilobytes of `[` raise RecursionError,
which DRF does not catch. A body that parses but nests deeper than any request of ours is refused
as well: serializers, hashing and logging walk the data recursively too. Both become DRF's
ParseError (400, `parse_error`), like any other malformed JSON.
"""

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Far deeper than any body of ours (an order nests three levels), far shallower than the stack.
MAX_JSON_DEPTH = 32


def json_depth_exceeds(data: Any, *, limit: int) -> bool:
    """Whether `data` (parsed JSON) nests lists and objects more than `limit` levels deep.

    Iterative, so it cannot itself run out of stack whatever the input.
    """
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser that answers 400 `parse_error` for any body, never a 500."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            data = super().parse(stream, media_type=media_type, parser_context=parser_context)
        except RecursionError as error:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from error
        if json_depth_exceeds(data, limit=MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data
