"""django-redis cache that counts hits and misses per cache for /metrics, and reports a Redis
outage once (`cache.outage`, then `cache.recovered` with counts) instead of a traceback per call.

While the cache's Redis is known to be away, reads and writes are skipped at once (a miss, as
IGNORE_EXCEPTIONS makes them) except one probe per REDIS_OUTAGE_PROBE_SECONDS, so a stalled
Redis costs a request nothing beyond that probe."""

import logging
from typing import Any

from django.conf import settings
from django_redis.cache import RedisCache
from prometheus_client import Counter

from config.outages import Outage

cache_requests = Counter("cache_requests_total", "Cache reads by cache and result (hit or miss)", ["cache", "result"])
_MISSING = object()

cache_outage = Outage(
    logging.getLogger("config.cache"), "cache", probe_seconds=lambda: settings.REDIS_OUTAGE_PROBE_SECONDS
)


class IgnoredExceptionFilter(logging.Filter):
    """django-redis logs every ignored exception with its traceback: count it in the outage instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() != "Exception ignored":
            return True
        error = record.exc_info[1] if record.exc_info else None
        cache_outage.failed(error or RuntimeError("cache error"))
        return False


logging.getLogger(settings.DJANGO_REDIS_LOGGER).addFilter(IgnoredExceptionFilter())


class MeteredRedisCache(RedisCache):
    """A Redis cache whose reads are counted; a Redis error reads as a miss (IGNORE_EXCEPTIONS)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self.metric_name = params.get("KEY_PREFIX") or "default"

    def _tried(self, failures_before: int) -> None:
        if cache_outage.is_down and cache_outage.failures == failures_before:
            cache_outage.succeeded()

    def get(self, key: Any, default: Any = None, version: int | None = None, client: Any = None) -> Any:
        value: Any = _MISSING
        if cache_outage.allow():
            failures = cache_outage.failures
            value = super().get(key, default=_MISSING, version=version, client=client)
            self._tried(failures)
        if value is _MISSING:
            cache_requests.labels(self.metric_name, "miss").inc()
            return default
        cache_requests.labels(self.metric_name, "hit").inc()
        return value

    def set(self, *args: Any, **kwargs: Any) -> Any:
        if not cache_outage.allow():
            return False
        failures = cache_outage.failures
        result = super().set(*args, **kwargs)
        self._tried(failures)
        return result
