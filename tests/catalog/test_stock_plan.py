"""The stock refresh's share of the points: which products are due, how many the day affords,
and the clocks (refresh, STOCK / VARIANT webhooks, demand)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from catalog.jobs import stock_refresh_scheduled_job
from catalog.models import Product
from catalog.stock_plan import (
    product_demand_mark,
    stock_candidates,
    stock_refresh_due,
    stock_refreshes_affordable,
)
from config.queues import PROCESS_WEBHOOK
from integrations.cj.client import get_client
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.webhooks.conftest import OPEN_ID, post_signed, sample

pytestmark = pytest.mark.django_db

SAMPLE_PID = "2408300610371613200"
SAMPLE_VID = "2408300610371613201"


def _product(*, checked_hours_ago=None, demand_hours_ago=None, stock=50, **fields):
    now = timezone.now()
    product = ProductFactory(
        stock_checked_at=None if checked_hours_ago is None else now - timedelta(hours=checked_hours_ago),
        demand_at=None if demand_hours_ago is None else now - timedelta(hours=demand_hours_ago),
        **fields,
    )
    VariantFactory(product=product, stock=stock)
    return product


def test_hot_then_low_then_cold_products_are_due_oldest_first(settings):
    settings.CATALOG_STOCK_HOT_HOURS = 24
    hot = _product(checked_hours_ago=2, demand_hours_ago=3)
    hot_fresh = _product(checked_hours_ago=0.5, demand_hours_ago=1)  # hot but read 30 min ago
    low = _product(checked_hours_ago=3, stock=4)
    low_fresh = _product(checked_hours_ago=1, stock=4)
    never = _product()
    cold = _product(checked_hours_ago=7)
    cold_fresh = _product(checked_hours_ago=5)  # nobody buys it: 6 h between reads
    stale_demand = _product(checked_hours_ago=6.5, demand_hours_ago=30)  # demand older than a day: cold

    candidates = stock_candidates()

    assert [candidate.cj_pid for candidate in candidates] == [
        hot.cj_pid,
        low.cj_pid,
        never.cj_pid,
        cold.cj_pid,
        stale_demand.cj_pid,
    ]
    assert [candidate.tier for candidate in candidates] == [0, 1, 2, 2, 2]
    assert {hot_fresh.cj_pid, low_fresh.cj_pid, cold_fresh.cj_pid}.isdisjoint(c.cj_pid for c in candidates)


def test_the_day_s_stock_points_are_spread_over_the_ticks_left(cj_simulator, settings):
    settings.CJ_DAILY_POINTS = 20_000
    settings.CJ_BUDGET_RESERVE_POINTS = 5_000
    settings.CATALOG_STOCK_REFRESH_MINUTES = 5
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    late = noon.replace(hour=23, minute=57)

    # 15_000 points for stock over 12 h: 5 minutes' share is 104 points, 10 reads.
    assert stock_refreshes_affordable(now=noon) == 10
    assert stock_refreshes_affordable(now=late) == 1_500  # the last tick may spend what is left
    get_client().budget.mark_exhausted(reset_at=datetime.now(UTC) + timedelta(minutes=1))
    assert stock_refreshes_affordable(now=late) == 0


def test_the_scheduled_job_reads_only_what_is_due_and_restarts_the_clocks(cj_simulator, settings):
    settings.CJ_DAILY_POINTS = 50_000
    due = _product(cj_pid=SAMPLE_PID, checked_hours_ago=8)
    VariantFactory(product=due, cj_vid=SAMPLE_VID, stock=3)
    fresh = _product(checked_hours_ago=1)

    first = stock_refresh_scheduled_job()
    second = stock_refresh_scheduled_job()

    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (first["status"], first["cj_calls"]) == ("succeeded", 1)
    assert second == {"status": "skipped", "reason": "no product due within the stock refresh's points"}
    assert cj_simulator.calls("product/stock/getInventoryByPid") == 1
    assert timezone.now() - due.stock_checked_at < timedelta(seconds=30)
    assert timezone.now() - fresh.stock_checked_at > timedelta(minutes=59)
    assert get_client().budget.status().points_by_purpose["stock"] == 10


def test_stock_refresh_due_honours_the_limit_and_the_budget(cj_simulator, settings):
    settings.CJ_DAILY_POINTS = 50_000
    products = [_product(checked_hours_ago=10 + index) for index in range(5)]

    assert stock_refresh_due(limit=2) == [products[4].cj_pid, products[3].cj_pid]
    settings.CJ_DAILY_POINTS = settings.CJ_BUDGET_RESERVE_POINTS  # nothing above the reserve
    assert stock_refresh_due(limit=2) == []


def test_a_quote_or_order_makes_its_product_hot():
    product = _product(checked_hours_ago=1.5)
    variant = product.variants.get()
    assert stock_candidates() == []

    product_demand_mark(variant_ids=[variant.pk])

    assert [(candidate.cj_pid, candidate.tier) for candidate in stock_candidates()] == [(product.cj_pid, 0)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["webhook_msg_STOCK.json", "webhook_msg_VARIANT.json"])
def test_a_stock_or_variant_webhook_restarts_the_product_s_clock(client, run_worker, settings, name):
    settings.CJ_OPEN_ID = OPEN_ID
    product = ProductFactory(cj_pid=SAMPLE_PID, stock_checked_at=timezone.now() - timedelta(hours=9))
    VariantFactory(product=product, cj_vid=SAMPLE_VID)

    assert post_signed(client, sample(name)).status_code == 200
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}

    product.refresh_from_db()
    assert timezone.now() - product.stock_checked_at < timedelta(seconds=30)
    assert Product.objects.get(pk=product.pk).stock_checked_at == product.stock_checked_at
