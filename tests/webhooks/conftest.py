"""Helpers for the webhook tests: CJ's samples, signed like CJ signs them, posted to the receiver."""

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "cj"
OPEN_ID = "1234567890"  # the simulator's and the samples' placeholder openId
URL = "/api/webhooks/cj"


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())


def cj_sign(body: bytes, open_id: str = OPEN_ID) -> str:
    return base64.b64encode(hmac.new(open_id.encode(), body, hashlib.sha256).digest()).decode()


def body_of(message: dict[str, Any] | bytes) -> bytes:
    return message if isinstance(message, bytes) else json.dumps(message, separators=(",", ":")).encode()


def post_signed(client: Any, message: dict[str, Any] | bytes, *, signature: str | None = "auto", **extra: Any) -> Any:
    """POST a message to the receiver, signed with the openId unless `signature` says otherwise."""
    body = body_of(message)
    headers = {}
    if signature == "auto":
        headers["HTTP_SIGN"] = cj_sign(body)
    elif signature is not None:
        headers["HTTP_SIGN"] = signature
    return client.generic("POST", URL, body, content_type="application/json", **headers, **extra)


def message(topic: str, params: Any, *, message_id: str = "msg-0001", message_type: str = "UPDATE") -> dict[str, Any]:
    return {"messageId": message_id, "type": topic, "messageType": message_type, "openId": 1234567890, "params": params}


@pytest.fixture(autouse=True)
def _cj_open_id(settings: Any) -> None:
    settings.CJ_OPEN_ID = OPEN_ID


@contextmanager
def queue_redis_refusing(settings: Any) -> Iterator[None]:
    """Point the queues at a closed port for a while (the shared Redis keeps serving the others).

    `config.queues.get_queue` caches a queue per address, so the changed one gets its own connection."""
    working = settings.RQ_QUEUES
    settings.RQ_QUEUES = {name: {**config, "PORT": 9, "DB": 6} for name, config in working.items()}
    try:
        yield
    finally:
        settings.RQ_QUEUES = working
