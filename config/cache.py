"""django-redis cache that counts hits and misses per cache for /metrics."""

from typing import Any

from django_redis.cache import RedisCache
from prometheus_client import Counter

cache_requests = Counter("cache_requests_total", "Cache reads by cache and result (hit or miss)", ["cache", "result"])
_MISSING = object()


class MeteredRedisCache(RedisCache):
    """A Redis cache whose reads are counted; a Redis error reads as a miss (IGNORE_EXCEPTIONS)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self.metric_name = params.get("KEY_PREFIX") or "default"

    def get(self, key: Any, default: Any = None, version: int | None = None, client: Any = None) -> Any:
        value = super().get(key, default=_MISSING, version=version, client=client)
        if value is _MISSING:
            cache_requests.labels(self.metric_name, "miss").inc()
            return default
        cache_requests.labels(self.metric_name, "hit").inc()
        return value
