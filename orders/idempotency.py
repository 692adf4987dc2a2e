"""Idempotent order intake: the request's fingerprint and the replay of an order already accepted
with the same `Idempotency-Key`."""

import hashlib
import json
from typing import Any

from django.db import connection

from orders.errors import IdempotencyKeyInFlight, IdempotencyKeyMismatch
from orders.models import Order


def request_hash(body: Any) -> str:
    """A stable hash of a request body, to tell a replay from a different request."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def idempotent_replay_locked(key: str, body_hash: str) -> Order | None:
    """`order_idempotent_replay` under the key's advisory lock (held until commit); raises
    IdempotencyKeyInFlight while another request with the key runs."""
    # One transaction-scoped advisory lock per key: a second request with the same key while the
    # first is still running does not wait, it is told so (409).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [f"order-idem:{key}"])
        (locked,) = cursor.fetchone()
    if not locked:
        raise IdempotencyKeyInFlight()
    return order_idempotent_replay(idempotency_key=key, body_hash=body_hash)


def order_idempotent_replay(*, idempotency_key: str, body_hash: str) -> Order | None:
    """The order already accepted with this Idempotency-Key and the same body, or None when the
    key is new. Raises IdempotencyKeyMismatch when the key was used with another body."""
    existing = Order.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        return None
    if existing.request_hash != body_hash:
        raise IdempotencyKeyMismatch()
    return existing
