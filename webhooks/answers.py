"""Answers given to CJ, counted per minute in Redis, for the pause guard (CJ pauses every push
once half of its deliveries fail), and rejected posts, counted apart. Counting never delays or
fails an answer.

Only posts whose signature checked out are CJ's deliveries: a post refused before that (no or a
wrong signature, a body too large to verify) may come from anyone, so it is counted in
`webhooks:rejected` per reason and never in the answers the guard reads; otherwise a stranger
could make the guard alert at will and hide a real pause."""

import contextlib
import time

import redis
from django.conf import settings

from config.queues import enqueue_outage

BUCKET_SECONDS = 60
KEY_TTL_SECONDS = 2 * 60 * 60

_connection: tuple[str, redis.Redis] | None = None


def _redis() -> redis.Redis:
    """The queue Redis with short timeouts, one client per process."""
    global _connection
    if _connection is None or _connection[0] != settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.25, socket_timeout=0.25)
        _connection = (settings.REDIS_URL, client)
    return _connection[1]


def _key(bucket: int) -> str:
    return f"webhooks:answers:{bucket}"


def answer_record(*, status_code: int) -> None:
    """Count one answer (200 or not) in this minute's bucket; a Redis error is ignored."""
    key = _key(int(time.time()) // BUCKET_SECONDS)
    # The same Redis as the queues: while its outage is known (config.queues), no time is spent here.
    if not enqueue_outage.allow():
        return
    try:
        pipe = _redis().pipeline(transaction=False)
        pipe.hincrby(key, "ok" if status_code == 200 else "failed", 1)
        pipe.expire(key, KEY_TTL_SECONDS)
        pipe.execute()
    except redis.RedisError as error:
        enqueue_outage.failed(error)  # the guard misses one answer; the answer itself must not fail
        return
    enqueue_outage.succeeded()


REJECTION_REASONS = (
    "missing_signature",
    "bad_signature",
    "too_large",
    "bad_content_length",
    "no_signing_key",
    "unverified",  # an error before the signature could be checked
)
_REJECTED_KEY = "webhooks:rejected"


def rejection_record(*, reason: str) -> None:
    """Count one post refused before its signature was verified; a Redis error is ignored.

    A running total without expiry (a Prometheus counter), shared by every process."""
    # The counter may miss one rejection; the answer itself must not fail.
    if not enqueue_outage.allow():
        return
    with contextlib.suppress(redis.RedisError):
        _redis().hincrby(_REJECTED_KEY, reason, 1)


def rejection_counts() -> dict[str, int]:
    """Rejected posts per reason since the counter began; raises redis.RedisError."""
    counts = dict.fromkeys(REJECTION_REASONS, 0)
    for reason, total in _redis().hgetall(_REJECTED_KEY).items():
        counts[reason.decode() if isinstance(reason, bytes) else reason] = int(total)
    return counts


def answer_counts(*, window_seconds: int) -> tuple[int, int]:
    """(answers, answers other than 200) in the last `window_seconds`; raises redis.RedisError."""
    current = int(time.time()) // BUCKET_SECONDS
    pipe = _redis().pipeline(transaction=False)
    for bucket in range(current - window_seconds // BUCKET_SECONDS + 1, current + 1):
        pipe.hmget(_key(bucket), "ok", "failed")
    ok = failed = 0
    for ok_count, failed_count in pipe.execute():
        ok += int(ok_count or 0)
        failed += int(failed_count or 0)
    return ok + failed, failed
