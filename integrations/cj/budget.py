"""The daily CJ budget: calls and points (CONTRACT §3.2-3.3) counted per UTC day in Redis.

CJ resets points at 00:00 UTC. Below the configured reserve, catalog discovery (product list,
detail and variant queries, the expensive calls) is refused so that stock refreshes and orders,
which keep the shop running, still have room.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from integrations.cj.errors import CJQuotaExceededError

# CONTRACT §3.3: points per call; endpoints not listed cost nothing.
POINT_COSTS: dict[str, int] = {
    "product/listV2": 50,
    "product/list": 50,
    "product/query": 10,
    "product/variant/query": 10,
    "product/variant/queryByVid": 10,
    "product/stock/queryByVid": 10,
    "product/stock/queryBySku": 10,
    # Paying CJ: none of these is in CJ's points table (checked 2026-12), so they cost nothing.
    "shopping/order/addCart": 0,
    "shopping/order/addCartConfirm": 0,
    "shopping/order/saveGenerateParentOrder": 0,
    "shopping/pay/payBalance": 0,
    "shopping/pay/payBalanceV2": 0,
    "shopping/pay/getBalance": 0,
}
DISCOVERY_ENDPOINTS = frozenset(
    {"product/listV2", "product/list", "product/query", "product/variant/query", "product/variant/queryByVid"}
)
_DAY_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class BudgetStatus:
    day: str
    calls_used: int
    points_used: int
    calls_limit: int
    points_limit: int

    @property
    def calls_remaining(self) -> int:
        return max(0, self.calls_limit - self.calls_used)

    @property
    def points_remaining(self) -> int:
        return max(0, self.points_limit - self.points_used)


class DailyBudget:
    """Counts calls and points per UTC day; refuses discovery calls below the reserve."""

    def __init__(
        self,
        connection: redis.Redis,
        *,
        prefix: str,
        calls_limit: int,
        points_limit: int,
        calls_reserve: int,
        points_reserve: int,
    ) -> None:
        self._redis = connection
        self.prefix = prefix
        self.calls_limit = calls_limit
        self.points_limit = points_limit
        self.calls_reserve = calls_reserve
        self.points_reserve = points_reserve

    def _key(self, day: str) -> str:
        return f"{self.prefix}:{day}"

    @staticmethod
    def today() -> str:
        return datetime.now(UTC).strftime("%Y-%m-%d")

    def status(self) -> BudgetStatus:
        """Today's usage and limits."""
        day = self.today()
        values = self._redis.hmget(self._key(day), "calls", "points")
        return BudgetStatus(
            day=day,
            calls_used=int(values[0] or 0),
            points_used=int(values[1] or 0),
            calls_limit=self.calls_limit,
            points_limit=self.points_limit,
        )

    def check(self, endpoint: str) -> None:
        """Raise CJQuotaExceededError when `endpoint` is discovery and today's budget is below the reserve."""
        if endpoint not in DISCOVERY_ENDPOINTS:
            return
        status = self.status()
        cost = POINT_COSTS.get(endpoint, 0)
        if status.points_remaining - cost < self.points_reserve or status.calls_remaining - 1 < self.calls_reserve:
            raise CJQuotaExceededError(
                f"daily CJ budget reserve reached ({status.calls_remaining} calls, {status.points_remaining} points "
                "left): catalog discovery is paused until 00:00 UTC",
                endpoint=endpoint,
            )

    def record(self, endpoint: str) -> None:
        """Count one call made to CJ (whatever its outcome: CJ counts it too)."""
        key = self._key(self.today())
        pipe = self._redis.pipeline()
        pipe.hincrby(key, "calls", 1)
        pipe.hincrby(key, "points", POINT_COSTS.get(endpoint, 0))
        pipe.expire(key, 2 * _DAY_SECONDS)
        pipe.execute()
