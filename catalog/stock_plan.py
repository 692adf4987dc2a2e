"""The stock refresh's share of the day's CJ points, spent where it matters.

One `getInventoryByPid` call (10 points) reads a product's stock. The scheduled stock job asks
`stock_refresh_due()` which products to read now:

- how many: what the plan leaves the stock refresh today (`points_allowance(STOCK)`, which stops
  at the orders and quotes reserve), spread evenly over the rest of the day, one scheduler tick
  (`CATALOG_STOCK_REFRESH_MINUTES`) at a time; what a tick does not spend goes to later ticks;
- which: products a buyer quoted or ordered in the last `CATALOG_STOCK_HOT_HOURS` once their
  figure is `CATALOG_STOCK_HOT_MINUTES` old, then products low on stock (an active variant at or
  below `CATALOG_STOCK_LOW_LEVEL`) once `CATALOG_STOCK_LOW_MINUTES` old, then everything else
  once `CATALOG_STOCK_COLD_HOURS` old, oldest first within each;
- clocks: a refresh (`stock_clock_mark`) or a STOCK / VARIANT webhook (`stock_clock_reset`)
  restarts a product's clock; a quote or an order (`product_demand_mark`) makes it hot.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from catalog.models import Product, Variant
from integrations.cj.points import CJPurpose, point_cost
from integrations.cj.points_plan import points_allowance, seconds_left_today

STOCK_ENDPOINT = "product/stock/getInventoryByPid"
TIER_HOT, TIER_LOW, TIER_COLD = 0, 1, 2


@dataclass(frozen=True)
class StockCandidate:
    cj_pid: str
    tier: int
    age_seconds: float  # math.inf when never read


def stock_refreshes_affordable(*, now: datetime | None = None, points_left: int | None = None) -> int:
    """Products the stock refresh may read in this tick: its points left, paced over the day's rest."""
    left = points_allowance(CJPurpose.STOCK) if points_left is None else points_left
    tick = settings.CATALOG_STOCK_REFRESH_MINUTES * 60
    share = left * min(1.0, tick / seconds_left_today(now))
    return max(0, int(share // point_cost(STOCK_ENDPOINT)))


def stock_candidates(*, now: datetime | None = None) -> list[StockCandidate]:
    """Active products whose stock is due, most urgent first (see the module's docstring)."""
    moment = now or timezone.now()
    hot_since = moment - timedelta(hours=settings.CATALOG_STOCK_HOT_HOURS)
    targets = {
        TIER_HOT: settings.CATALOG_STOCK_HOT_MINUTES * 60,
        TIER_LOW: settings.CATALOG_STOCK_LOW_MINUTES * 60,
        TIER_COLD: settings.CATALOG_STOCK_COLD_HOURS * 3600,
    }
    rows = (
        Product.objects.filter(status=Product.Status.ACTIVE)
        .annotate(low=Min("variants__stock", filter=Q(variants__status=Variant.Status.ACTIVE)))
        .filter(low__isnull=False)
        .values_list("cj_pid", "stock_checked_at", "demand_at", "low")
    )
    due: list[StockCandidate] = []
    for cj_pid, checked_at, demand_at, low in rows:
        age = math.inf if checked_at is None else (moment - checked_at).total_seconds()
        if demand_at is not None and demand_at >= hot_since:
            tier = TIER_HOT
        elif low <= settings.CATALOG_STOCK_LOW_LEVEL:
            tier = TIER_LOW
        else:
            tier = TIER_COLD
        if age >= targets[tier]:
            due.append(StockCandidate(cj_pid=cj_pid, tier=tier, age_seconds=age))
    due.sort(key=lambda candidate: (candidate.tier, -candidate.age_seconds, candidate.cj_pid))
    return due


def stock_refresh_due(limit: int | None = None, *, now: datetime | None = None) -> list[str]:
    """The pids whose stock to read now, most urgent first, within what the points plan affords.

    The stock job's one question to the plan (a job taking explicit pid lists calls it; raises
    redis.RedisError when Redis is down)."""
    affordable = stock_refreshes_affordable(now=now)
    if limit is not None:
        affordable = min(affordable, limit)
    if affordable <= 0:
        return []
    return [candidate.cj_pid for candidate in stock_candidates(now=now)[:affordable]]


def stock_clock_mark(*, product_ids: Iterable[int], at: datetime | None = None) -> int:
    """A refresh read these products' stock at `at` (now): restart their clocks."""
    ids = list(product_ids)
    if not ids:
        return 0
    return Product.objects.filter(pk__in=ids).update(stock_checked_at=at or timezone.now())


def stock_clock_reset(*, cj_vids: Iterable[str], at: datetime | None = None) -> int:
    """A STOCK or VARIANT webhook told us about these variants: restart their products' clocks."""
    vids = list(cj_vids)
    if not vids:
        return 0
    products = Variant.objects.filter(cj_vid__in=vids).values("product_id")
    return Product.objects.filter(pk__in=products).update(stock_checked_at=at or timezone.now())


def product_demand_mark(*, variant_ids: Iterable[int], at: datetime | None = None) -> int:
    """A buyer quoted or ordered these variants: their products' stock becomes hot."""
    ids = list(variant_ids)
    if not ids:
        return 0
    products = Variant.objects.filter(pk__in=ids).values("product_id")
    return Product.objects.filter(pk__in=products).update(demand_at=at or timezone.now())
