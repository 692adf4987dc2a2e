"""The shared CJ limiter keeps orders first: catalog and stock calls take at most their share of
the rate and never reserve far ahead, so an order call waits about one interval, not their backlog."""

import threading
import time

import redis
from django.conf import settings as django_settings

from integrations.cj.ratelimit import SharedRateLimiter, is_background


def _limiter(qps: float) -> SharedRateLimiter:
    connection = redis.Redis.from_url(django_settings.REDIS_URL)
    return SharedRateLimiter(connection, key="test:limiter", qps=qps, margin=0.0, max_wait=30)


def test_catalog_and_stock_endpoints_are_background_order_calls_are_not():
    assert [is_background(e) for e in ("product/listV2", "product/stock/getInventoryByPid", "product/query")] == [
        True, True, True,
    ]  # fmt: skip
    assert [is_background(e) for e in ("shopping/order/createOrderV2", "logistic/freightCalculate", "")] == [
        False, False, False,
    ]  # fmt: skip


def test_an_order_call_waits_one_interval_while_four_stock_loops_run_flat_out(settings):
    settings.CJ_LIMITER_BACKGROUND_SHARE = 0.5
    limiter = _limiter(qps=4)  # interval 0.25 s; background spaced at 0.5 s
    stop = threading.Event()
    background_calls: list[float] = []

    def stock_loop() -> None:
        while not stop.is_set():
            limiter.acquire(endpoint="product/stock/getInventoryByPid")
            background_calls.append(time.monotonic())

    loops = [threading.Thread(target=stock_loop) for _ in range(4)]
    for loop in loops:
        loop.start()
    time.sleep(1.0)
    waits = [limiter.acquire(endpoint="shopping/order/createOrderV2") for _ in range(3)]
    window_start = time.monotonic()
    time.sleep(2.0)
    stop.set()
    for loop in loops:
        loop.join(timeout=5)

    # each order call waited at most about one interval (plus the previous order call's slot)
    assert max(waits) <= 0.55, waits
    in_window = [at for at in background_calls if window_start <= at < window_start + 2.0]
    assert 3 <= len(in_window) <= 5  # the background share: 0.5 x 4 calls/s over 2 s
