"""One CJ rate limiter shared by every process through Redis.

CJ limits each account to `CJ_QPS` requests per second over all our processes together. The
limiter spaces calls evenly (GCRA: one atomic Lua script keeps the time of the next free slot):
`acquire()` reserves the next slot and sleeps once until it comes, so callers queue in arrival
order without polling. A small safety margin (`CJ_QPS_MARGIN`) absorbs the jitter between our
clock and the moment CJ sees the request. A throttled answer (`1600200` / HTTP 429) pushes the
next slot back for everyone (`back_off`).

Why not `limits`/`pyrate-limiter`: their window limiters admit a burst of `QPS` calls at once and
make waiting callers poll; bursts arriving with network jitter are exactly what trips CJ's
per-second limit, and polling wastes the budget of the slowest process. Spacing avoids both.

Orders first: catalog and stock calls (`product/...`, *background*) may take only
`CJ_LIMITER_BACKGROUND_SHARE` of the rate (a second slot key spaces them at interval / share)
and never reserve a slot more than one interval ahead; when the queue ahead is longer they wait
without reserving and ask again. Order, payment, freight, tracking and token calls reserve the
next free slot at once, so a stock refresh running flat out delays an order call by about one
interval, never by the refresh's backlog.
"""

import time

import redis
from django.conf import settings

from integrations.cj.errors import CJRateLimitedError

# KEYS[1] = slot key; ARGV = now, interval, max_wait, ttl (seconds, floats as strings).
# Returns the seconds to wait before the reserved slot, or -1 (not reserved) when above max_wait.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, next_free)
local wait = slot - now
if wait > max_wait then
  return '-1'
end
redis.call('SET', KEYS[1], tostring(slot + interval), 'EX', tonumber(ARGV[4]))
return tostring(wait)
"""

# Background calls: KEYS[1] = slot key, KEYS[2] = background slot key; ARGV = now, interval,
# background interval, ttl, how far ahead a background call may reserve. Returns the wait before
# the reserved slot, or minus the wait when it is too far ahead (nothing reserved then).
_ACQUIRE_BACKGROUND = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local background_interval = tonumber(ARGV[3])
local ahead = tonumber(ARGV[5])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local next_background = tonumber(redis.call('GET', KEYS[2]) or '0')
local slot = math.max(now, next_free, next_background)
local wait = slot - now
if wait > ahead then
  return tostring(-wait)
end
redis.call('SET', KEYS[1], tostring(slot + interval), 'EX', tonumber(ARGV[4]))
redis.call('SET', KEYS[2], tostring(slot + background_interval), 'EX', tonumber(ARGV[4]))
return tostring(wait)
"""

BACKGROUND_PREFIXES = ("product/",)  # catalog sync, product refresh and stock refresh


def is_background(endpoint: str) -> bool:
    """Whether a call to `endpoint` is catalog or stock work, which yields to orders and quotes."""
    return endpoint.startswith(BACKGROUND_PREFIXES)


# Pushes the next free slot to at least now + delay.
_BACK_OFF = """
local target = tonumber(ARGV[1])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
if target > next_free then
  redis.call('SET', KEYS[1], tostring(target), 'EX', tonumber(ARGV[2]))
end
return 1
"""


class SharedRateLimiter:
    """At most `qps` acquisitions per second across all processes using the same Redis key."""

    def __init__(
        self, connection: redis.Redis, *, key: str, qps: float, margin: float = 0.05, max_wait: float = 60.0
    ) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        self._redis = connection
        self.key = key
        self.qps = qps
        self.interval = (1.0 / qps) * (1.0 + margin)
        self.max_wait = max_wait
        self._acquire = connection.register_script(_ACQUIRE)
        self._acquire_background = connection.register_script(_ACQUIRE_BACKGROUND)
        self._back_off = connection.register_script(_BACK_OFF)

    def _now(self) -> float:
        # Redis' clock is the one every process shares, so slots never depend on local clock skew.
        seconds, microseconds = self._redis.time()
        return seconds + microseconds / 1_000_000

    def acquire(self, *, endpoint: str = "") -> float:
        """Wait for the next free slot and return the seconds waited.

        Raises CJRateLimitedError when the queue ahead is longer than `max_wait` seconds
        (nothing is reserved then).
        """
        if is_background(endpoint):
            return self._acquire_as_background(endpoint)
        now = self._now()
        ttl = int(self.max_wait + self.interval) + 2
        wait = float(self._acquire(keys=[self.key], args=[repr(now), repr(self.interval), repr(self.max_wait), ttl]))
        if wait < 0:
            raise CJRateLimitedError(
                "local CJ rate limiter queue is full", endpoint=endpoint, retry_after=self.max_wait
            )
        if wait > 0:
            time.sleep(wait)
        return wait

    def _acquire_as_background(self, endpoint: str) -> float:
        share = min(1.0, max(0.05, settings.CJ_LIMITER_BACKGROUND_SHARE))
        background_interval = self.interval / share
        ttl = int(self.max_wait + background_interval) + 2
        waited = 0.0
        while True:
            answer = float(
                self._acquire_background(
                    keys=[self.key, f"{self.key}:background"],
                    args=[repr(self._now()), repr(self.interval), repr(background_interval), ttl, repr(self.interval)],
                )
            )
            if answer >= 0:
                if answer > 0:
                    time.sleep(answer)
                return waited + answer
            if waited - answer > self.max_wait:
                raise CJRateLimitedError(
                    "local CJ rate limiter queue is full", endpoint=endpoint, retry_after=self.max_wait
                )
            pause = max(self.interval, -answer - self.interval)
            time.sleep(pause)
            waited += pause

    def back_off(self, seconds: float) -> None:
        """Give CJ a rest: no process gets a slot for the next `seconds`."""
        now_seconds, microseconds = self._redis.time()
        target = now_seconds + microseconds / 1_000_000 + seconds
        self._back_off(keys=[self.key], args=[repr(target), int(seconds) + 2])
