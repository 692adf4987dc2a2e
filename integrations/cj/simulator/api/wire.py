"""What crosses the wire to and from a simulated endpoint: the parsed request and its argument
checks, the JSON body decoder, and the `{success: true, code: 0}` envelope some endpoints use."""

import json
from dataclasses import dataclass
from typing import Any

from integrations.cj.simulator.state import SimError


@dataclass
class SimRequest:
    """One call as the handlers see it: the query (repeated keys kept), the decoded body, the token."""

    method: str
    endpoint: str
    query: dict[str, list[str]]
    body: Any
    token: str | None

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def args(self, name: str) -> list[str]:
        values: list[str] = []
        for value in self.query.get(name, []):
            values.extend(part.strip() for part in value.split(",") if part.strip())
        return values

    def field(self, name: str) -> Any:
        if isinstance(self.body, dict) and name in self.body:
            return self.body[name]
        return self.arg(name)


class AltEnvelope:
    """Data to be sent in the `{success: true, code: 0}` envelope variant."""

    def __init__(self, data: Any) -> None:
        self.data = data


def required(request: SimRequest, *names: str) -> None:
    """SimError 16900403 (as CJ answers) when one of the fields is missing or empty."""
    for name in names:
        value = request.field(name)
        if value is None or value == "" or value == []:
            raise SimError(16900403, f"{name} must not be empty")


def object_body(request: SimRequest) -> dict[str, Any]:
    """The body as a JSON object; SimError 16900204 when missing, 1600300 when not an object."""
    if request.body is None:
        raise SimError(16900204, "request body missing")
    if not isinstance(request.body, dict):
        raise SimError(1600300, "Param error: the body must be a JSON object")
    return request.body


def int_arg(request: SimRequest, name: str, default: int, low: int, high: int) -> int:
    """A query argument as an int within [low, high] (`default` when absent); SimError 1600300 otherwise."""
    raw = request.arg(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SimError(1600300, f"Param error: {name} must be a number") from error
    if not low <= value <= high:
        raise SimError(1600300, f"Param error: {name} must be between {low} and {high}")
    return value


def decode_body(raw: bytes) -> Any:
    """The JSON body or None when empty; SimError 16900205 when it is not JSON."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as error:
        raise SimError(16900205, "The request body is not in a correct JSON format") from error
