"""Prometheus export of the daily CJ budget, read from Redis at scrape time (shared by all processes)."""

from collections.abc import Iterator
from typing import Any

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from integrations.cj.budget import BudgetStatus
from integrations.cj.client import get_client


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
    """`cj_budget_remaining{kind="calls|points"}` and `cj_budget_used{kind=...}` for today (UTC)."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Lets the registry learn the names without calling collect() (no Redis at registration).
        yield GaugeMetricFamily("cj_budget_remaining", "CJ calls/points left today (UTC)", labels=["kind"])
        yield GaugeMetricFamily("cj_budget_used", "CJ calls/points used today (UTC)", labels=["kind"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            status = budget_status()
        except redis.RedisError:
            return
        remaining = GaugeMetricFamily("cj_budget_remaining", "CJ calls/points left today (UTC)", labels=["kind"])
        used = GaugeMetricFamily("cj_budget_used", "CJ calls/points used today (UTC)", labels=["kind"])
        remaining.add_metric(["calls"], status.calls_remaining)
        remaining.add_metric(["points"], status.points_remaining)
        used.add_metric(["calls"], status.calls_used)
        used.add_metric(["points"], status.points_used)
        yield remaining
        yield used
