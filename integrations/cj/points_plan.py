"""The day's points plan as the rest of the shop asks it: how much each purpose may still spend,
and how the day is going (used and left per purpose, the projected end-of-day balance, the alert).

    from integrations.cj.points import CJPurpose, cj_purpose
    from integrations.cj.points_plan import points_allowance

    if points_allowance(CJPurpose.DISCOVERY) >= 50:
        with cj_purpose(CJPurpose.DISCOVERY):
            client.list_products(keyword="lamp")

The rules themselves live in `integrations.cj.budget.DailyBudget` (enforced on every call);
`catalog.stock_plan` spreads the stock refresh's share over the day.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from integrations.cj.budget import BudgetStatus
from integrations.cj.client import get_client
from integrations.cj.points import CJPurpose, next_reset

DAY_SECONDS = 24 * 60 * 60
# Before this much of the day has passed, the pace of spending says little: project from it no earlier.
MIN_ELAPSED_SECONDS = 15 * 60


def points_allowance(purpose: CJPurpose | str) -> int:
    """Points `purpose` may still spend today (0 when the plan gives it nothing more).

    Raises redis.RedisError when Redis is down."""
    return get_client().budget.allowance(CJPurpose(purpose))


def seconds_left_today(now: datetime | None = None) -> float:
    """Seconds until CJ's reset (00:00 UTC)."""
    moment = now or datetime.now(UTC)
    return max(1.0, (next_reset(moment) - moment).total_seconds())


@dataclass(frozen=True)
class PlanSummary:
    day: str
    allowance: int
    used: int
    left: int
    reserve: int
    used_by_purpose: dict[str, int]
    left_by_purpose: dict[str, int]
    projected_balance: int
    exhausted_until: datetime | None

    @property
    def alert(self) -> bool:
        """The day's pace would end below the orders and quotes reserve (or CJ says the points are gone)."""
        return self.exhausted_until is not None or self.projected_balance < self.reserve

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "allowance": self.allowance,
            "used": self.used,
            "left": self.left,
            "reserve": self.reserve,
            "used_by_purpose": self.used_by_purpose,
            "left_by_purpose": self.left_by_purpose,
            "projected_balance": self.projected_balance,
            "alert": self.alert,
            "exhausted_until": self.exhausted_until.isoformat() if self.exhausted_until else None,
        }


def projected_balance(status: BudgetStatus, now: datetime | None = None) -> int:
    """Points left at 00:00 UTC if the rest of the day spends at today's pace so far."""
    moment = now or datetime.now(UTC)
    left_seconds = seconds_left_today(moment)
    elapsed = max(float(MIN_ELAPSED_SECONDS), DAY_SECONDS - left_seconds)
    pace = status.points_used / elapsed
    return int(status.points_limit - status.points_used - pace * left_seconds)


def plan_summary(now: datetime | None = None) -> PlanSummary:
    """Today's plan: used and left per purpose, the projection, the alert (raises redis.RedisError)."""
    budget = get_client().budget
    status = budget.status()
    return PlanSummary(
        day=status.day,
        allowance=status.points_limit,
        used=status.points_used,
        left=status.points_remaining,
        reserve=budget.points_reserve,
        used_by_purpose=dict(status.points_by_purpose),
        left_by_purpose={purpose.value: budget.allowance(purpose, status) for purpose in CJPurpose},
        projected_balance=projected_balance(status, now),
        exhausted_until=status.exhausted_until,
    )
