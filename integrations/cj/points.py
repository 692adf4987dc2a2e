"""CJ's points economy (CJ's page "API Points Resource Rules", `/en/api/api2/standard/points.html`).

One table of what each endpoint costs, shared by the client's budget (`integrations.cj.budget`) and
the simulator (`integrations.cj.simulator.api.routes`), so both sides count every call alike.
Endpoints not listed cost nothing. The day's allowance is 50,000 base points plus 100 points per
USD of the largest monthly transaction amount of the last three months; it resets at 00:00 UTC.

Every call is also counted under a purpose (`CJPurpose`): orders, quotes, stock, sync or
discovery. A caller names its purpose with `cj_purpose(...)`; otherwise it follows from the endpoint.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

# CJ's points page, checked 2026-12 (en and zh pages, .com and .cn): points per call.
POINT_COSTS: dict[str, int] = {
    "product/listV2": 50,
    "product/list": 50,
    "product/query": 10,
    "product/variant/query": 10,
    "product/variant/queryByVid": 10,
    "product/stock/queryByVid": 10,
    "product/stock/queryBySku": 10,
    "product/stock/privateInventory/querySpuPage": 10,
    "product/stock/privateInventory/querySkuListByProductId": 10,
    "product/stock/privateInventory/querySkuDetailPage": 10,
    "product/stock/privateInventory/querySkuDetailListBySku": 10,
    "product/stock/privateInventory/querySkuFlowByCondition": 10,
    "storehouseCenterWeb/syncStorehouseVideoRequests": 10,
    "product/stock/getInventoryByPid": 10,
    "logistic/freightCalculate": 10,
    "logistic/freightCalculateTip": 10,
    "logistic/partnerFreightCalculate": 10,
    "logistic/getSupplierLogisticsTemplate": 10,
    "webhook/product/subscribe": 10,
    "webhook/product/unsubscribe": 10,
    "product/queryProductsByImage": 1000,
}
BASE_DAILY_POINTS = 50_000
POINTS_PER_USD = 100


def point_cost(endpoint: str) -> int:
    """Points CJ deducts for one call of `endpoint` (0 for endpoints not in CJ's table)."""
    return POINT_COSTS.get(endpoint.strip("/"), 0)


def daily_allowance(*, base_points: int, largest_monthly_usd: Decimal | float | int) -> int:
    """The day's points: base + 100 per USD of the largest monthly transaction amount (last 3 months)."""
    return base_points + int(Decimal(str(largest_monthly_usd)) * POINTS_PER_USD)


def next_reset(now: datetime | None = None) -> datetime:
    """CJ resets points at 00:00 UTC: the next such moment after `now`."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return datetime.combine(moment.date() + timedelta(days=1), time(0), tzinfo=UTC)


class CJPurpose(StrEnum):
    """What a CJ call is for; the points plan gives each its share of the day."""

    ORDERS = "orders"  # placing and following orders at CJ
    QUOTES = "quotes"  # freight quotes for the storefront (they lead to orders)
    STOCK = "stock"  # stock refresh
    SYNC = "sync"  # product syncs and single-product refreshes
    DISCOVERY = "discovery"  # import-rule runs and staff searches of CJ's catalogue


# Orders and quotes share the reserve; catalog work is given up in this order when points run low.
PROTECTED_PURPOSES = (CJPurpose.ORDERS, CJPurpose.QUOTES)
GIVE_UP_ORDER = (CJPurpose.DISCOVERY, CJPurpose.SYNC, CJPurpose.STOCK)

_purpose: ContextVar[CJPurpose | None] = ContextVar("cj_purpose", default=None)


@contextmanager
def cj_purpose(purpose: CJPurpose | str) -> Iterator[CJPurpose]:
    """Count the CJ calls made inside the block under `purpose`."""
    token = _purpose.set(CJPurpose(purpose))
    try:
        yield CJPurpose(purpose)
    finally:
        _purpose.reset(token)


def purpose_of(endpoint: str) -> CJPurpose:
    """The purpose of a call: the one named by `cj_purpose`, else what the endpoint serves."""
    named = _purpose.get()
    if named is not None:
        return named
    if endpoint.startswith("logistic/freight") or endpoint.startswith("logistic/partnerFreight"):
        return CJPurpose.QUOTES
    if endpoint.startswith(("shopping/", "logistic/")):
        return CJPurpose.ORDERS
    if endpoint.startswith("product/stock/"):
        return CJPurpose.STOCK
    return CJPurpose.SYNC
