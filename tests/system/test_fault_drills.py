"""Drills of issue #18 (items 2-6) on a running stack split as `make run` runs it: a worker for
orders and webhooks, one for stock, one for catalog sync, the cron scheduler, gunicorn, the CJ
simulator at CJ's slowest account level (1 request/s) and a Redis server the drills stop, pause
(SIGSTOP), restart and flush.

Each drill asserts times: acks within CJ's budget, an order forwarded while a stock refresh runs,
orders whose jobs vanished placed within a minute without a CJ login, /health truthful after a
Redis restart.
"""

import base64
import hashlib
import hmac
import json
import os
import signal
import statistics
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests

from tests.system.stack import Stack, wait_until

pytestmark = pytest.mark.system

ADDRESS = {"line1": "1 Main St", "city": "Austin", "province": "TX", "zip": "78701", "country_code": "US"}
STOREFRONT_TOKEN = "fault-drills-storefront-token"


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("faults"))
    running.env.update(
        {
            "CJ_QPS": "1",  # CJ's lowest account level, for every process
            "ORDERS_STUCK_AFTER_SECONDS": "600",  # vanished jobs must be found by comparing, not by age
            "ORDERS_SWEEP_INTERVAL_SECONDS": "20",
            "ORDERS_JOB_LOST_AFTER_SECONDS": "5",
            "WORKER_HEARTBEAT_SECONDS": "2",
            "CATALOG_STOCK_REFRESH_BATCH": "2",
            "LOG_LEVEL": "INFO",
            # The storefront takes payment itself: an accepted order is paid and queued for CJ at once
            # (these drills are about queues and Redis; the Stripe path has its own in test_drills.py).
            "PAYMENTS_PROVIDER": "external",
            "STOREFRONT_API_TOKEN": STOREFRONT_TOKEN,
        }
    )
    try:
        running.start()
        running.kill("worker-1", signal.SIGTERM)  # replaced by the split workers of make run
        running.sim("POST", "reset", {"products": 12, "qps": 1, "insecure_webhooks": True, "webhook_retry_delay": 1,
                                      "balance": "100000.00"})  # fmt: skip
        running.start_worker("worker", "create-order", "process-webhook")
        running.start_worker("stock-worker", "update-stock")
        running.start_worker("sync-worker", "sync-products")
        # Staff import the simulator's catalogue, published (the sync reads only the shop's products).
        pids = running.sim("GET", "info")["pids"]
        running.manage("sync_cj", "import", "--publish", *[arg for pid in pids for arg in ("--pid", pid)], timeout=300)
        running.start_scheduler()
        yield running
    finally:
        running.stop()


def _variant_ids(stack: Stack) -> list[int]:
    rows = stack.sql("SELECT id FROM catalog_variant WHERE status = 'active' AND stock > 5 ORDER BY id")
    return [row[0] for row in rows]


def _order(stack: Stack, variant_id: int, n: int) -> str:
    body = {"email": f"fault{n}@example.com", "name": "Ada Buyer", "shipping_address": ADDRESS,
            "items": [{"variant_id": variant_id, "quantity": 1}], "payment_reference": f"paid-{n}"}  # fmt: skip
    response = stack.api("POST", "/api/orders", json=body, headers={"Authorization": f"Bearer {STOREFRONT_TOKEN}"})
    assert response.status_code == 202, response.text
    return response.json()["number"]


def _statuses(stack: Stack, numbers: list[str]) -> dict[str, str]:
    return dict(stack.sql("SELECT number, status FROM orders_order WHERE number = ANY(%s)", (numbers,)))


def _signed_stock_webhook(vid: str, units: int) -> tuple[bytes, dict]:
    params = {vid: [{"vid": vid, "areaEn": "US", "countryCode": "US", "storageNum": units}]}
    body = json.dumps(
        {
            "messageId": uuid.uuid4().hex,
            "type": "STOCK",
            "messageType": "UPDATE",
            "openId": 1234567890,
            "params": params,
        }
    )
    sign = base64.b64encode(hmac.new(b"1234567890", body.encode(), hashlib.sha256).digest()).decode()
    return body.encode(), {"sign": sign, "Content-Type": "application/json"}


def _push_burst(stack: Stack, vid: str, count: int, start: int) -> list[tuple[int, float]]:
    """`count` signed pushes, 4 at a time (CJ delivers concurrently): (status, seconds) each."""

    def push(n: int) -> tuple[int, float]:
        body, headers = _signed_stock_webhook(vid, start + n)
        started = time.perf_counter()
        try:
            status = stack.api("POST", "/api/webhooks/cj", data=body, headers=headers, timeout=10).status_code
        except requests.RequestException:
            status = 0
        return status, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(push, range(count)))


def _p99(durations: list[float]) -> float:
    return statistics.quantiles(durations, n=100, method="inclusive")[98]


def _events_settled(stack: Stack) -> bool:
    return stack.sql("SELECT count(*) FROM webhooks_webhookevent WHERE status NOT IN ('processed', 'ignored')") == [
        (0,)
    ]


def test_acks_stay_within_cjs_limit_with_redis_up_down_stopped_and_back(stack):
    vid = stack.sql("SELECT cj_vid FROM catalog_variant WHERE status = 'active' ORDER BY id LIMIT 1")[0][0]
    phases: dict[str, list[tuple[int, float]]] = {"up": _push_burst(stack, vid, 40, 100)}
    stack.stop_redis()
    try:
        phases["down"] = _push_burst(stack, vid, 60, 200)
    finally:
        stack.start_redis()
    phases["back"] = _push_burst(stack, vid, 40, 300)
    assert stack.redis is not None
    os.kill(stack.redis.pid, signal.SIGSTOP)  # a Redis that accepts connections and never answers
    try:
        phases["stopped"] = _push_burst(stack, vid, 60, 400)
    finally:
        os.kill(stack.redis.pid, signal.SIGCONT)
    phases["resumed"] = _push_burst(stack, vid, 40, 500)
    time.sleep(2.5)  # past REDIS_OUTAGE_PROBE_SECONDS: the next pushes find Redis back
    phases["resumed"] += _push_burst(stack, vid, 8, 600)

    figures = {
        name: (sorted({status for status, _ in results}), round(_p99([d for _, d in results]), 3),
               round(max(d for _, d in results), 3))
        for name, results in phases.items()
    }  # fmt: skip
    print(f"ack figures (statuses, p99 s, max s): {figures}")
    for name, (statuses, p99, longest) in figures.items():
        assert statuses == [200], (name, figures)
        assert p99 <= 1.0, (name, figures)
        assert longest <= 3.0, (name, figures)
    # every push stored, and the sweeper enqueues what the outage kept from the queue
    assert stack.sql("SELECT count(*) FROM webhooks_webhookevent WHERE topic = 'STOCK'")[0][0] >= 248
    wait_until(lambda: _events_settled(stack), "every stored webhook processed", timeout=120)


def test_request_path_logs_one_line_per_outage_not_a_traceback_per_attempt(stack):
    web_log = (stack.workdir / "web.log").read_text()
    assert web_log.count("Traceback") == 0
    outages = web_log.count('"jobs.enqueue.outage"')
    recoveries = web_log.count('"jobs.enqueue.recovered"')
    pushes = web_log.count('"webhooks.received"')
    # two outages (down, stopped), each seen by at most both gunicorn workers (one may span both
    # when no probe fell between them); each outage ends in one recovery line per worker
    assert 1 <= outages <= 4 and 1 <= recoveries <= outages, (outages, recoveries)
    assert pushes >= 248


def test_an_order_is_forwarded_within_10_s_while_a_stock_refresh_runs_at_1_qps(stack):
    stack.manage("sync_cj", "stock", "--enqueue")
    wait_until(
        lambda: stack.sql("SELECT count(*) FROM catalog_syncrun WHERE kind = 'stock' AND status = 'running'") == [(1,)],
        "the stock refresh running",
        timeout=30,
    )
    calls_before = stack.sim("GET", "stats")["calls"].get("product/stock/getInventoryByPid", 0)
    started = time.monotonic()
    number = _order(stack, _variant_ids(stack)[0], 1000)
    wait_until(lambda: _statuses(stack, [number]) == {number: "placed"}, "the order placed", timeout=10)
    forwarded_in = time.monotonic() - started
    still_running = stack.sql("SELECT count(*) FROM catalog_syncrun WHERE kind = 'stock' AND status = 'running'")
    stock_calls = stack.sim("GET", "stats")["calls"].get("product/stock/getInventoryByPid", 0) - calls_before

    print(f"order placed in {forwarded_in:.1f} s while the stock refresh made {stock_calls} calls")
    assert forwarded_in <= 10
    assert still_running == [(1,)]  # the refresh was really under way the whole time
    assert stack.sim("GET", "stats")["throttled"] == 0
    wait_until(
        lambda: (
            stack.sql("SELECT status FROM catalog_syncrun WHERE kind = 'stock' ORDER BY id DESC LIMIT 1")
            == [("succeeded",)]
        ),
        "the stock refresh finished",
        timeout=120,
    )


def test_redis_flushed_then_no_cj_login_and_orders_placed_within_a_minute(stack):
    logins_before = stack.sim("GET", "stats")["get_access_token"]
    stack.kill("worker", signal.SIGTERM)  # the orders wait in their queue...
    variant_ids = _variant_ids(stack)
    numbers = [_order(stack, variant_ids[n % len(variant_ids)], 2000 + n) for n in range(3)]
    redis.Redis(port=stack.redis_port).flushall()  # ...which Redis forgets
    flushed = time.monotonic()
    stack.start_worker("worker", "create-order", "process-webhook")

    wait_until(lambda: set(_statuses(stack, numbers).values()) == {"placed"}, "the orders placed", timeout=60)
    placed_in = time.monotonic() - flushed
    print(f"orders whose jobs vanished placed {placed_in:.1f} s after the flush")

    assert placed_in <= 60
    assert stack.sim("GET", "stats")["get_access_token"] == logins_before  # the token pair came from PostgreSQL
    # a quote after the flush needs no login either
    quote = stack.api("POST", "/api/shipping/quote", json={"country_code": "US", "zip": "78701",
                      "items": [{"variant_id": variant_ids[0], "quantity": 1}]})  # fmt: skip
    assert quote.status_code == 200
    assert stack.sim("GET", "stats")["get_access_token"] == logins_before


def _queues_health(stack: Stack) -> dict:
    return stack.api("GET", "/health", timeout=5).json()["components"]["queues"]


def test_health_right_after_a_redis_restart_is_truthful_and_still_sees_a_dead_worker(stack):
    stack.stop_redis()
    dump = Path(stack.workdir) / "dump.rdb"
    dump.unlink(missing_ok=True)  # restarted without its data: every registration is gone
    stack.start_redis()

    right_after = wait_until(lambda: _queues_health(stack), "/health answering", timeout=10)
    assert right_after["status"] == "ok", right_after
    assert all(stats["alive"] >= 1 for stats in right_after["queues"].values()), right_after
    # the workers register again on their next heartbeat (every 2 s here)
    wait_until(
        lambda: all(stats["workers"] >= 1 for stats in _queues_health(stack)["queues"].values()),
        "the workers registered again",
        timeout=15,
    )

    stack.kill("stock-worker")  # really dead (kill -9), while Redis still lists it for minutes
    dead = wait_until(
        lambda: (health := _queues_health(stack))["status"] == "error" and health,
        "the dead worker reported",
        timeout=15,
    )
    assert dead["queues"]["update-stock"]["alive"] == 0
    assert dead["error"].startswith("no worker listening on update-stock")
    assert dead["queues"]["create-order"]["alive"] >= 1
    stack.start_worker("stock-worker", "update-stock")
