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
"""

import time

import redis

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
        self._back_off = connection.register_script(_BACK_OFF)

    def acquire(self, *, endpoint: str = "") -> float:
        """Wait for the next free slot and return the seconds waited.

        Raises CJRateLimitedError when the queue ahead is longer than `max_wait` seconds
        (nothing is reserved then).
        """
        # Redis' clock is the one every process shares, so slots never depend on local clock skew.
        seconds, microseconds = self._redis.time()
        now = seconds + microseconds / 1_000_000
        ttl = int(self.max_wait + self.interval) + 2
        wait = float(self._acquire(keys=[self.key], args=[repr(now), repr(self.interval), repr(self.max_wait), ttl]))
        if wait < 0:
            raise CJRateLimitedError(
                "local CJ rate limiter queue is full", endpoint=endpoint, retry_after=self.max_wait
            )
        if wait > 0:
            time.sleep(wait)
        return wait

    def back_off(self, seconds: float) -> None:
        """Give CJ a rest: no process gets a slot for the next `seconds`."""
        now_seconds, microseconds = self._redis.time()
        target = now_seconds + microseconds / 1_000_000 + seconds
        self._back_off(keys=[self.key], args=[repr(target), int(seconds) + 2])
