"""Prometheus export of the daily CJ budget and the points plan, read from Redis at scrape time
(shared by all processes).

    cj_budget_remaining{kind="calls|points"}, cj_budget_used{kind=...}   today (UTC)
    cj_points_used{purpose=...}, cj_points_left{purpose=...}              per purpose (left: the plan's)
    cj_points_allowance, cj_points_reserve, cj_points_projected_balance   the day's figures
    cj_points_alert                                                       1: projection below the reserve
"""

from collections.abc import Iterator
from typing import Any

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from integrations.cj.budget import BudgetStatus
from integrations.cj.client import get_client
from integrations.cj.points_plan import plan_summary


def budget_status() -> BudgetStatus:
    """Today's CJ budget of the configured account (raises redis.RedisError when Redis is down)."""
    return get_client().budget.status()


def budget_summary() -> dict[str, Any]:
    """The budget as /health shows it."""
    status = budget_status()
    return {
        "day": status.day,
        "calls_remaining": status.calls_remaining,
        "points_remaining": status.points_remaining,
        "calls_used": status.calls_used,
        "points_used": status.points_used,
    }


class CJBudgetCollector(Collector):
    """The budget and the points plan for today (UTC); nothing when Redis does not answer."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Lets the registry learn the names without calling collect() (no Redis at registration).
        yield from self._families()

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("cj_budget_remaining", "CJ calls/points left today (UTC)", labels=["kind"]),
            GaugeMetricFamily("cj_budget_used", "CJ calls/points used today (UTC)", labels=["kind"]),
            GaugeMetricFamily("cj_points_used", "CJ points used today per purpose", labels=["purpose"]),
            GaugeMetricFamily("cj_points_left", "CJ points the plan still allows per purpose", labels=["purpose"]),
            GaugeMetricFamily("cj_points_allowance", "CJ points of the day (base + order volume)"),
            GaugeMetricFamily("cj_points_reserve", "CJ points kept for orders and quotes"),
            GaugeMetricFamily("cj_points_projected_balance", "CJ points left at 00:00 UTC at today's pace"),
            GaugeMetricFamily("cj_points_alert", "1 when the projected balance is below the reserve or CJ refused"),
        )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            status = budget_status()
            plan = plan_summary()
        except redis.RedisError:
            return
        remaining, used, by_purpose, left, allowance, reserve, projected, alert = self._families()
        remaining.add_metric(["calls"], status.calls_remaining)
        remaining.add_metric(["points"], status.points_remaining)
        used.add_metric(["calls"], status.calls_used)
        used.add_metric(["points"], status.points_used)
        for purpose, points in plan.used_by_purpose.items():
            by_purpose.add_metric([purpose], points)
        for purpose, points in plan.left_by_purpose.items():
            left.add_metric([purpose], points)
        allowance.add_metric([], plan.allowance)
        reserve.add_metric([], plan.reserve)
        projected.add_metric([], plan.projected_balance)
        alert.add_metric([], 1 if plan.alert else 0)
        yield from (remaining, used, by_purpose, left, allowance, reserve, projected, alert)


def points_panels(request: Any) -> Iterator[Any]:
    """The admin dashboard's "CJ points today" panel (staff who may view sync runs): used and left
    per purpose, the projection."""
    from config.dashboard import DashboardItem, DashboardPanel

    if not request.user.has_perm("catalog.view_syncrun"):
        return
    plan = plan_summary()
    share = max(1, plan.allowance)
    items = [
        DashboardItem(
            label=f"{purpose}: used",
            value=plan.used_by_purpose[purpose],
            share=100 * plan.used_by_purpose[purpose] / share,
            hint=f"{plan.left_by_purpose[purpose]} points left for {purpose} under the plan",
        )
        for purpose in plan.used_by_purpose
    ]
    items.append(
        DashboardItem(
            label="Projected balance at 00:00 UTC",
            value=plan.projected_balance,
            badge="danger" if plan.alert else "ok",
            value_badge="danger" if plan.alert else "",
            hint=f"reserve for orders and quotes: {plan.reserve}",
        )
    )
    if plan.exhausted_until is not None:
        items.append(
            DashboardItem(
                label="CJ refuses calls that cost points until",
                value=f"{plan.exhausted_until:%Y-%m-%d %H:%M} UTC",
                badge="danger",
            )
        )
    yield DashboardPanel(
        key="cj-points",
        title=f"CJ points today: {plan.used} used, {plan.left} left of {plan.allowance}",
        items=tuple(items),
        order=45,
    )
