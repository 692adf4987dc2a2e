"""CJ's webhook messages as received: the signature check and the envelope (CONTRACT §9.3, §9.4).

`sign` = standard Base64 of HMAC-SHA256 over the raw body bytes, keyed with the account's openId
as a decimal string. The body is verified exactly as received, before it is parsed.
"""

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from config.domain_errors import VALIDATION_MESSAGE, DomainError

SIGNATURE_HEADER = "sign"
# Headers never stored with an event: credentials, and the signature itself.
UNSTORED_HEADERS = frozenset({"sign", "authorization", "proxy-authorization", "cookie", "cj-access-token"})
MAX_ID_LENGTH = 128
MAX_TYPE_LENGTH = 32


class MessageInvalid(DomainError):
    """The body is not a CJ webhook message (not JSON, not an object, missing messageId/type):
    answered 400 with the reason under `details.body`."""

    status = 400
    code = "validation_error"
    message = VALIDATION_MESSAGE

    def __init__(self, reason: str) -> None:
        super().__init__(details={"body": [reason]})
        self.reason = reason


@dataclass(frozen=True)
class Message:
    message_id: str
    topic: str
    message_type: str
    params: dict[str, Any] | list[Any]
    text: str


def sign(body: bytes, key: str) -> str:
    """CJ's signature of a raw body with one key (the openId as a string)."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def signature_is_valid(*, body: bytes, signature: str | None, keys: Iterable[str]) -> bool:
    """True when `signature` is CJ's signature of `body` under one of `keys` (constant-time compare)."""
    if not signature:
        return False
    try:
        supplied = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    matched = False
    for key in keys:
        if key:
            expected = hmac.new(key.encode(), body, hashlib.sha256).digest()
            matched |= hmac.compare_digest(expected, supplied)
    return matched


def _short_text(value: Any, *, field: str, limit: int, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise MessageInvalid(f"'{field}' is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MessageInvalid(f"'{field}' must be a string")
    text = str(value).strip()
    if not text and required:
        raise MessageInvalid(f"'{field}' is required")
    if len(text) > limit:
        raise MessageInvalid(f"'{field}' is longer than {limit} characters")
    return text


_UNPAIRED_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"  # high, no low after it
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # low, no high before it
)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _float_or_text(text: str) -> float | str:
    # A number no float holds (1e999999) would be stored as Infinity, which jsonb refuses: it is
    # kept as its text, for processing to refuse as an implausible figure (a failed event staff see).
    number = float(text)
    return number if math.isfinite(number) else text


def message_parse(body: bytes) -> Message:
    """Decode a webhook body into its envelope; raises MessageInvalid for anything else."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MessageInvalid("the body is not UTF-8") from error
    # PostgreSQL's jsonb cannot hold NUL characters or unpaired surrogates; no CJ message carries one.
    if "\\u0000" in text:
        raise MessageInvalid("the body contains a NUL character")
    if _UNPAIRED_SURROGATE.search(text):
        raise MessageInvalid("the body contains an unpaired surrogate escape")
    try:
        # NaN and Infinity are not JSON (Python accepts them, PostgreSQL's jsonb does not).
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_float_or_text)
    except (ValueError, RecursionError) as error:
        raise MessageInvalid("the body is not valid JSON") from error
    if not isinstance(data, Mapping):
        raise MessageInvalid("the body must be a JSON object")
    params = data.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict | list):
        raise MessageInvalid("'params' must be an object")
    return Message(
        message_id=_short_text(data.get("messageId"), field="messageId", limit=MAX_ID_LENGTH, required=True),
        topic=_short_text(data.get("type"), field="type", limit=MAX_TYPE_LENGTH, required=True).upper(),
        message_type=_short_text(
            data.get("messageType"), field="messageType", limit=MAX_TYPE_LENGTH, required=False
        ).upper(),
        params=params,
        text=text,
    )


def headers_to_store(headers: Mapping[str, str]) -> dict[str, str]:
    """The request headers worth keeping with an event (no credentials, values capped)."""
    return {name: str(value)[:500] for name, value in headers.items() if name.lower() not in UNSTORED_HEADERS}
