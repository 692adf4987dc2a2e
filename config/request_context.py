"""The id of the request (or job) being handled, shared by logs and queued jobs."""

import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("request_id", default="")
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_request_id() -> str:
    """The current request id, or "" outside a request or job."""
    return _request_id.get()


def set_request_id(value: str) -> None:
    _request_id.set(value)


def request_id_from_header(header: str | None) -> str:
    """Accept a caller's X-Request-ID when it is a sane token, otherwise create a new id."""
    if header and _VALID.match(header):
        return header
    return uuid.uuid4().hex
