"""The daily CJ budget: calls and points (CONTRACT §3.2-3.3) counted per UTC day and purpose in Redis.

Costs come from `integrations.cj.points` (CJ's table, shared with the simulator). The plan of the
day, enforced before every call that costs points:

- orders and quotes may spend every point left (the reserve is theirs);
- stock refresh stops `points_reserve` points before the end of the allowance;
- product syncs stop `give_up_margin` points earlier, discovery (rule runs, searches) another
  `give_up_margin` earlier and never spends more than `discovery_daily` points in a day;
- once CJ answers that the points are gone (HTTP 429, code 429), nothing that costs points is sent
  until CJ's reset (00:00 UTC): the client raises `CJQuotaExceededError` carrying the reset time
  at once. Calls that cost nothing (orders, tracking, tokens) still pass.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis

from integrations.cj.errors import CJQuotaExceededError
from integrations.cj.points import PROTECTED_PURPOSES, CJPurpose, next_reset, point_cost

_DAY_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class BudgetStatus:
    day: str
    calls_used: int
    points_used: int
    calls_limit: int
    points_limit: int
    points_by_purpose: dict[str, int] = field(default_factory=dict)
    calls_by_purpose: dict[str, int] = field(default_factory=dict)
    exhausted_until: datetime | None = None

    @property
    def calls_remaining(self) -> int:
        return max(0, self.calls_limit - self.calls_used)

    @property
    def points_remaining(self) -> int:
        if self.exhausted_until is not None:
            return 0  # CJ said so, whatever our count
        return max(0, self.points_limit - self.points_used)


class DailyBudget:
    """Counts calls and points per UTC day and purpose; refuses what the day's plan does not allow."""

    def __init__(
        self,
        connection: redis.Redis,
        *,
        prefix: str,
        calls_limit: int,
        points_limit: int,
        calls_reserve: int,
        points_reserve: int,
        give_up_margin: int = 0,
        discovery_daily: int = 0,
    ) -> None:
        self._redis = connection
        self.prefix = prefix
        self.calls_limit = calls_limit
        self.points_limit = points_limit
        self.calls_reserve = calls_reserve
        self.points_reserve = points_reserve
        self.give_up_margin = give_up_margin
        self.discovery_daily = discovery_daily

    def _key(self, day: str) -> str:
        return f"{self.prefix}:{day}"

    @property
    def _exhausted_key(self) -> str:
        return f"{self.prefix}:exhausted"

    @staticmethod
    def today() -> str:
        return datetime.now(UTC).strftime("%Y-%m-%d")

    def status(self) -> BudgetStatus:
        """Today's usage (total and per purpose), limits, and CJ's exhaustion when it said so."""
        day = self.today()
        pipe = self._redis.pipeline()
        pipe.hgetall(self._key(day))
        pipe.get(self._exhausted_key)
        values, exhausted = pipe.execute()
        fields = {key.decode() if isinstance(key, bytes) else key: int(value) for key, value in values.items()}
        until = None
        if exhausted:
            until = datetime.fromisoformat(exhausted.decode() if isinstance(exhausted, bytes) else exhausted)
            if until <= datetime.now(UTC):
                until = None
        return BudgetStatus(
            day=day,
            calls_used=fields.get("calls", 0),
            points_used=fields.get("points", 0),
            calls_limit=self.calls_limit,
            points_limit=self.points_limit,
            points_by_purpose={p.value: fields.get(f"points:{p.value}", 0) for p in CJPurpose},
            calls_by_purpose={p.value: fields.get(f"calls:{p.value}", 0) for p in CJPurpose},
            exhausted_until=until,
        )

    def floor(self, purpose: CJPurpose) -> int:
        """Points that must stay unspent for `purpose` to spend (its place in the give-up order)."""
        if purpose in PROTECTED_PURPOSES:
            return 0
        if purpose is CJPurpose.STOCK:
            return self.points_reserve
        if purpose is CJPurpose.SYNC:
            return self.points_reserve + self.give_up_margin
        return self.points_reserve + 2 * self.give_up_margin

    def allowance(self, purpose: CJPurpose | str, status: BudgetStatus | None = None) -> int:
        """Points `purpose` may still spend today under the plan."""
        purpose = CJPurpose(purpose)
        status = status or self.status()
        left = max(0, status.points_remaining - self.floor(purpose))
        if purpose is CJPurpose.DISCOVERY and self.discovery_daily:
            left = min(left, max(0, self.discovery_daily - status.points_by_purpose.get(purpose.value, 0)))
        if purpose not in PROTECTED_PURPOSES and status.calls_remaining - 1 < self.calls_reserve:
            return 0
        return left

    def check(self, endpoint: str, purpose: CJPurpose = CJPurpose.SYNC) -> None:
        """Raise CJQuotaExceededError when a call of `endpoint` for `purpose` is not in today's plan."""
        cost = point_cost(endpoint)
        if cost == 0:
            return
        status = self.status()
        reset_at = status.exhausted_until or next_reset()
        if status.exhausted_until is not None:
            raise CJQuotaExceededError(
                f"CJ's API points are used up until {reset_at:%Y-%m-%d %H:%M} UTC ({cost} needed)",
                endpoint=endpoint,
                reset_at=reset_at,
                points_required=cost,
            )
        if self.allowance(purpose, status) < cost:
            raise CJQuotaExceededError(
                f"the points plan leaves {purpose.value} no more points today ({status.points_remaining} points, "
                f"{status.calls_remaining} calls left; {self.floor(purpose)} kept for work before it): "
                f"paused until {reset_at:%Y-%m-%d %H:%M} UTC",
                endpoint=endpoint,
                reset_at=reset_at,
                points_required=cost,
            )

    def record(self, endpoint: str, purpose: CJPurpose = CJPurpose.SYNC) -> None:
        """Count one call CJ charged (points by CJ's table), under its purpose."""
        cost = point_cost(endpoint)
        key = self._key(self.today())
        pipe = self._redis.pipeline()
        pipe.hincrby(key, "calls", 1)
        pipe.hincrby(key, f"calls:{purpose.value}", 1)
        if cost:
            pipe.hincrby(key, "points", cost)
            pipe.hincrby(key, f"points:{purpose.value}", cost)
        pipe.expire(key, 2 * _DAY_SECONDS)
        pipe.execute()

    def mark_exhausted(self, *, reset_at: datetime, points_used: int | None = None) -> None:
        """CJ said the points are gone: spend none until `reset_at`; take CJ's count when it gave one."""
        pipe = self._redis.pipeline()
        pipe.set(self._exhausted_key, reset_at.astimezone(UTC).isoformat(), exat=int(reset_at.timestamp()))
        if points_used is not None:
            key = self._key(self.today())
            pipe.hget(key, "points")
        results = pipe.execute()
        if points_used is not None and int(results[-1] or 0) < points_used:
            self._redis.hset(self._key(self.today()), "points", points_used)
