"""The system under real processes (gunicorn, RQ workers, the CJ simulator, its own Redis server),
driven over HTTP as the storefront and CJ would, and drilled under faults.

Each drill asserts the outcome: orders placed exactly once at CJ, webhooks applied, nothing lost.
Run with the rest of the suite (`make test`) or alone (`make test-system`).
"""

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.system.stack import Stack, wait_until

pytestmark = pytest.mark.system

ADDRESS = {"line1": "1 Main St", "city": "Austin", "province": "TX", "zip": "78701", "country_code": "US"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("system"))
    try:
        running.start()
        running.manage("sync_cj", "products", "--full")
        running.manage("cj_webhooks", "register")
        yield running
    finally:
        running.stop()


def _variant_ids(stack: Stack) -> list[int]:
    products = stack.api("GET", "/api/products?in_stock=true&limit=50").json()["results"]
    ids = []
    for product in products:
        detail = stack.api("GET", f"/api/products/{product['id']}").json()
        ids.extend(variant["id"] for variant in detail["variants"] if variant["stock"] > 5)
    return ids


def _order(stack: Stack, variant_id: int, n: int) -> dict:
    body = {
        "email": f"buyer{n}@example.com",
        "name": "Ada Buyer",
        "shipping_address": ADDRESS,
        "items": [{"variant_id": variant_id, "quantity": 1}],
    }
    response = stack.api("POST", "/api/orders", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def _statuses(stack: Stack, numbers: list[str]) -> dict[str, str]:
    return dict(stack.sql("SELECT number, status FROM orders_order WHERE number = ANY(%s)", (numbers,)))


def _cj_numbers(stack: Stack) -> list[str]:
    return sorted(order["orderNum"] for order in stack.sim("GET", "orders")["orders"])


def test_storefront_journey_from_sync_to_tracking(stack):
    # browse
    variant_id = _variant_ids(stack)[0]
    # quote
    quote = stack.api("POST", "/api/shipping/quote", json={"country_code": "US", "zip": "78701",
                      "items": [{"variant_id": variant_id, "quantity": 1}]})  # fmt: skip
    assert quote.status_code == 200 and quote.json()["options"]
    # order
    accepted = _order(stack, variant_id, 1)
    token = {"X-Order-Token": accepted["access_token"]}

    def order_status() -> dict:
        return stack.api("GET", accepted["status_url"], headers=token).json()

    wait_until(lambda: order_status()["status"] == "placed", "the order being placed at CJ")
    # CJ ships it and pushes ORDER / LOGISTIC webhooks to our receiver
    cj_id = stack.sql("SELECT cj_order_id FROM orders_order WHERE number = %s", (accepted["number"],))[0][0]
    stack.sim("POST", "orders/advance", {"order_id": cj_id, "status": "SHIPPED"})

    shipped = wait_until(lambda: (body := order_status())["status"] == "shipped" and body, "the shipping webhook")
    assert shipped["tracking"]["number"]
    assert [entry["to_status"] for entry in shipped["timeline"] if entry["to_status"]] == [
        "pending", "forwarding", "placed", "shipped",
    ]  # fmt: skip
    assert _cj_numbers(stack).count(accepted["number"]) == 1


def test_worker_killed_mid_job_loses_nothing_and_creates_no_duplicate(stack):
    variant_ids = _variant_ids(stack)
    before = set(_cj_numbers(stack))
    stack.kill("worker-1")
    # CJ is slow: the worker will be in the middle of createOrderV2 when it dies.
    stack.sim("POST", "faults", {"kind": "latency", "rate": 1.0, "endpoint": "shopping/order/createOrderV2",
                                 "latency_ms": 1500})  # fmt: skip
    numbers = [_order(stack, variant_ids[n % len(variant_ids)], 100 + n)["number"] for n in range(4)]
    stack.start_worker("worker-2")
    wait_until(lambda: "forwarding" in _statuses(stack, numbers).values(), "a job in flight", timeout=20)
    stack.kill("worker-2")  # kill -9 the worker and its work horse mid-job
    stack.sim("DELETE", "faults")

    started = time.monotonic()
    stack.start_worker("worker-3")
    # The stuck order is picked up by the sweeper (the scheduler runs it every minute; cron can too).
    time.sleep(6)  # ORDERS_STUCK_AFTER_SECONDS=5 in this stack
    stack.manage("sweep_orders")
    wait_until(lambda: set(_statuses(stack, numbers).values()) == {"placed"}, "every order placed", timeout=60)

    assert time.monotonic() - started < 180
    cj_numbers = [number for number in _cj_numbers(stack) if number not in before]
    assert sorted(cj_numbers) == sorted(numbers)  # each exactly once
    stack.processes["worker-1"] = stack.processes.pop("worker-3")


def _signed_webhook(stack: Stack, params: dict) -> tuple[bytes, dict]:
    body = json.dumps({"messageId": uuid.uuid4().hex, "type": "STOCK", "messageType": "UPDATE",
                       "openId": 1234567890, "params": params}).encode()  # fmt: skip
    sign = base64.b64encode(hmac.new(b"1234567890", body, hashlib.sha256).digest()).decode()
    return body, {"sign": sign, "Content-Type": "application/json"}


def test_redis_down_for_30_seconds(stack):
    variant_ids = _variant_ids(stack)
    vid = stack.sql("SELECT cj_vid FROM catalog_variant WHERE id = %s", (variant_ids[0],))[0][0]
    before = set(_cj_numbers(stack))
    stack.stop_redis()
    accepted, refused, acks, lists = [], [], [], []
    try:
        down_until = time.monotonic() + 30
        n = 0
        while time.monotonic() < down_until:
            response = stack.api("POST", "/api/orders", json={
                "email": f"down{n}@example.com", "name": "Ada", "shipping_address": ADDRESS,
                "items": [{"variant_id": variant_ids[n % len(variant_ids)], "quantity": 1}]})  # fmt: skip
            (accepted if response.status_code == 202 else refused).append(response)
            body, headers = _signed_webhook(stack, {vid: [{"vid": vid, "areaEn": "US", "countryCode": "US",
                                                            "storageNum": 50 + n}]})  # fmt: skip
            acks.append(stack.api("POST", "/api/webhooks/cj", data=body, headers=headers).status_code)
            lists.append(stack.api("GET", "/api/products").status_code)
            n += 1
            time.sleep(1)
    finally:
        stack.start_redis()

    assert set(acks) == {200}  # CJ's pushes are stored and acknowledged
    assert set(lists) == {200}  # the catalog still answers, from the database
    # Orders either were accepted or refused cleanly (the CJ rate limiter lives in Redis): never a 500.
    assert {response.status_code for response in refused} <= {503}
    numbers = [response.json()["number"] for response in accepted]
    time.sleep(6)
    stack.manage("sweep_orders")
    stack.manage("cj_webhooks", "sweep")
    wait_until(lambda: set(_statuses(stack, numbers).values()) <= {"placed"}, "accepted orders placed", timeout=90)
    assert sorted(number for number in _cj_numbers(stack) if number not in before) == sorted(numbers)
    wait_until(
        lambda: (
            stack.sql("SELECT count(*) FROM webhooks_webhookevent WHERE status NOT IN ('processed', 'ignored')")
            == [(0,)]
        ),
        "stored webhooks processed",
        timeout=60,
    )
