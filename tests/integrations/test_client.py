"""The real CJ client over real HTTP against the simulator (tests/cj_fixtures.py)."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from django.conf import settings

from integrations.cj.client import get_client
from integrations.cj.errors import (
    CJAuthError,
    CJNotFoundError,
    CJPermanentError,
    CJQuotaExceededError,
    CJRateLimitedError,
    CJTransientError,
)
from integrations.cj.types import (
    Category,
    DecimalRange,
    FreightOption,
    Inventory,
    OrderLine,
    OrderRequest,
    TokenPair,
    WarehouseStock,
)

PID = "2408300610371613200"
VID = "2408300610371613201"


def _order(number: str = "T-1001", *, logistic: str = "CJPacket Ordinary", vid: str = VID) -> OrderRequest:
    return OrderRequest(
        order_number=number,
        shipping_country_code="US",
        shipping_country="United States",
        shipping_province="New York",
        shipping_city="New York",
        shipping_address="1 Example Street",
        shipping_customer_name="Test Buyer",
        logistic_name=logistic,
        from_country_code="CN",
        lines=(OrderLine(vid=vid, quantity=2, store_line_item_id="line-1"),),
        shipping_zip="10001",
    )


def test_get_product_parses_sample_product_with_inventory(cj_simulator):
    product = get_client().get_product(pid=PID)

    assert (product.pid, product.name, product.sku) == (PID, "Silicone Measuring Spoon Set", "CJTEST0000001")
    assert product.sell_price == DecimalRange(low=Decimal("2.35"), high=Decimal("2.60"))
    assert product.weight_grams == DecimalRange(low=Decimal("85.0"), high=Decimal("95.0"))
    assert product.option_names == ("Color", "Size")
    assert product.is_on_sale is True
    assert [(v.vid, v.sku, v.option_values, v.sell_price, v.stock) for v in product.variants] == [
        (VID, "CJTEST0000001-Black-M", ("Black", "M"), Decimal("2.35"), 480),
        ("2408300610371613202", "CJTEST0000001-White-L", ("White", "L"), Decimal("2.6"), 400),
    ]
    assert product.variants[0].inventories == (
        Inventory(country_code="CN", total=400, cj=0, factory=400),
        Inventory(country_code="US", total=80, cj=80, factory=0),
    )
    assert cj_simulator.stats()["calls"] == {"authentication/getAccessToken": 1, "product/query": 1}


def test_get_product_by_variant_sku_and_unknown_pid(cj_simulator):
    client = get_client()

    assert client.get_product(variant_sku="CJTEST0000001-White-L").pid == PID
    with pytest.raises(CJNotFoundError) as raised:
        client.get_product(pid="1")
    assert (raised.value.code, raised.value.endpoint) == (1602001, "product/query")
    assert raised.value.request_id


def test_list_products_pages_through_the_whole_catalog(cj_simulator):
    client = get_client()

    first = client.list_products(page=1, size=15)
    second = client.list_products(page=2, size=15)

    assert (first.page, first.size, first.total_records, first.total_pages) == (1, 15, 20, 2)
    assert len(first.products) == 15 and len(second.products) == 5
    pids = [p.pid for p in first.products + second.products]
    assert pids == cj_simulator.info()["pids"]
    assert first.products[0].sell_price == DecimalRange(low=Decimal("2.35"), high=Decimal("2.60"))
    assert first.products[0].created_at == datetime(2024, 8, 30, 6, 10, 37, tzinfo=UTC)


def test_list_products_filters_by_creation_time(cj_simulator):
    page = get_client().list_products(
        created_from=datetime(2024, 8, 30, 8, 0, tzinfo=UTC), created_to=datetime(2024, 8, 30, 10, 0, tzinfo=UTC)
    )

    assert [p.pid for p in page.products] == ["2408300610371613400", "2408300610371613500"]


def test_variants_and_stock(cj_simulator):
    client = get_client()

    variants = client.list_variants(pid=PID)
    variant = client.get_variant(vid=VID)
    by_vid = client.get_stock_by_vid(vid=VID)
    by_pid = client.get_stock_by_pid(pid=PID)

    assert [v.vid for v in variants] == [VID, "2408300610371613202"]
    assert variants[0].inventories == ()
    assert variant.stock == 480
    assert by_vid == (
        WarehouseStock(vid=VID, country_code="CN", area="China Warehouse", total=400, cj=0, factory=400),
        WarehouseStock(vid=VID, country_code="US", area="US Warehouse", total=80, cj=80, factory=0),
    )
    assert by_pid[VID] == by_vid
    assert [s.total for s in by_pid["2408300610371613202"]] == [400]
    with pytest.raises(CJNotFoundError) as raised:
        client.get_variant(vid="2408300610371613299")
    assert raised.value.code == 1602000


def test_stock_change_in_simulator_is_read_back(cj_simulator):
    cj_simulator.set_stock(VID, 7, country_code="US")

    assert [(s.country_code, s.total) for s in get_client().get_stock_by_vid(vid=VID)] == [("CN", 400), ("US", 7)]


def test_categories(cj_simulator):
    categories = get_client().list_categories()

    assert len(categories) == 12
    assert categories[0] == Category(
        id="00000000-0000-4000-8000-000000000101",
        name="Measuring Tools",
        parent_names=("Home & Garden", "Kitchen Tools"),
    )


def test_freight_and_order_lifecycle(cj_simulator):
    client = get_client()
    lines = (OrderLine(vid=VID, quantity=2),)

    options = client.calculate_freight(from_country_code="CN", to_country_code="US", zip="10001", lines=lines)
    created = client.create_order(order=_order(logistic=options[0].logistic_name))
    client.confirm_order(cj_order_id=created.cj_order_id)
    client.pay_balance(cj_order_id=created.cj_order_id)
    cj_simulator.advance_order("T-1001")
    detail = client.get_order(order_id="T-1001")
    tracked = client.track(track_numbers=[detail.track_number])

    assert options[0] == FreightOption(
        logistic_name="CJPacket Ordinary", delivery_days="7-12", price=Decimal("4.54"), total_price=Decimal("4.54")
    )
    assert [o.logistic_name for o in options] == ["CJPacket Ordinary", "USPS+", "DHL Official"]
    assert (created.order_number, created.status, created.order_amount) == ("T-1001", "CREATED", Decimal("9.24"))
    assert (created.product_amount, created.postage_amount, created.pay_url) == (Decimal("4.7"), Decimal("4.54"), None)
    assert (detail.cj_order_id, detail.status, detail.order_amount) == (created.cj_order_id, "SHIPPED", Decimal("9.24"))
    assert detail.paid_at is not None and detail.track_number.startswith("CJPKSIM")
    assert [(t.tracking_number, t.status) for t in tracked] == [(detail.track_number, "In transit")]
    assert [o.order_number for o in client.list_orders(status="SHIPPED")] == ["T-1001"]
    assert client.list_orders(status="CREATED") == ()
    assert client.get_order(order_id=created.cj_order_id).order_number == "T-1001"
    assert cj_simulator.orders()[0]["history"] == ["CREATED", "UNPAID", "UNSHIPPED", "SHIPPED"]


@pytest.mark.parametrize(
    ("order", "error_class", "code"),
    [
        (_order("T-1", logistic="Pigeon Post"), CJPermanentError, 1605001),
        (_order("T-2", vid="2408300610371613299"), CJNotFoundError, 1602000),
    ],
)
def test_create_order_permanent_errors(cj_simulator, order, error_class, code):
    with pytest.raises(error_class) as raised:
        get_client().create_order(order=order)

    assert raised.value.code == code
    assert cj_simulator.orders() == []


def test_duplicate_order_number_and_missing_order(cj_simulator):
    client = get_client()
    client.create_order(order=_order("T-9"))

    with pytest.raises(CJPermanentError) as duplicate:
        client.create_order(order=_order("T-9"))
    with pytest.raises(CJNotFoundError) as missing:
        client.get_order(order_id="T-404")

    assert duplicate.value.code == 1603003
    assert missing.value.code == 1600300
    assert len(cj_simulator.orders()) == 1


def test_balance_insufficient(cj_simulator):
    cj_simulator.reset(balance="1.00")
    with pytest.raises(CJPermanentError) as raised:
        get_client().create_order(order=OrderRequest(**{**_order().__dict__, "pay_type": 2}))

    assert raised.value.code == 1604000


def test_timeout_on_order_creation_is_not_repeated(cj_simulator, settings):
    settings.CJ_READ_TIMEOUT = 0.3
    cj_simulator.fault("timeout", endpoint="shopping/order/createOrderV2", latency_ms=1000, count=1)

    with pytest.raises(CJTransientError) as raised:
        get_client().create_order(order=_order("T-77"))

    assert raised.value.message == "timed out"
    assert cj_simulator.calls("shopping/order/createOrderV2") == 1
    # CJ did create it: the caller finds it by our number instead of creating it again.
    assert get_client().get_order(order_id="T-77").order_number == "T-77"


@pytest.mark.parametrize("kind", ["http_5xx", "busy", "timeout", "throttle"])
def test_transient_faults_on_reads_are_retried(cj_simulator, settings, kind):
    settings.CJ_READ_TIMEOUT = 0.3
    cj_simulator.fault(kind, endpoint="product/query", count=2, latency_ms=600)

    product = get_client().get_product(pid=PID)

    assert product.pid == PID
    assert cj_simulator.calls("product/query") == 3


def test_transient_faults_beyond_the_retry_budget_raise(cj_simulator):
    cj_simulator.fault("http_5xx", endpoint="product/getCategory", count=5, status=503)

    with pytest.raises(CJTransientError) as raised:
        get_client().list_categories()

    assert raised.value.code is None and "503" in raised.value.message
    assert cj_simulator.calls("product/getCategory") == settings.CJ_RETRY_ATTEMPTS == 3


def test_throttled_answer_raises_rate_limited_and_backs_off_limiter(cj_simulator, settings):
    settings.CJ_RETRY_ATTEMPTS = 1
    settings.CJ_THROTTLE_BACKOFF = 0.5
    cj_simulator.fault("throttle", endpoint="product/getCategory", count=1)
    client = get_client()

    with pytest.raises(CJRateLimitedError) as raised:
        client.list_categories()
    waited = client.limiter.acquire()

    assert (raised.value.code, raised.value.retry_after) == (1600200, 0.5)
    assert 0.3 < waited <= 0.5


def test_http_429_is_rate_limited(cj_simulator, settings):
    settings.CJ_RETRY_ATTEMPTS = 1
    cj_simulator.reset(throttle_http_429=True)
    cj_simulator.fault("throttle", endpoint="product/getCategory", count=1)

    with pytest.raises(CJRateLimitedError) as raised:
        get_client().list_categories()

    assert raised.value.code == 1600200


def test_token_is_shared_and_refreshed_when_cj_rejects_it(cj_simulator):
    client = get_client()
    client.list_categories()
    first = client.tokens.load()

    cj_simulator.advance_clock(16 * 24 * 3600)  # past the 15-day access token
    client.list_categories()
    second = client.tokens.load()

    stats = cj_simulator.stats()
    assert (stats["get_access_token"], stats["refresh_access_token"]) == (1, 1)
    assert stats["calls"]["product/getCategory"] == 3  # the rejected call was repeated once
    assert second.access_token != first.access_token and second.open_id == "1234567890"


def test_token_close_to_expiry_is_refreshed_before_use(cj_simulator):
    client = get_client()
    client.list_categories()
    pair = client.tokens.load()
    soon = datetime.now(UTC) + timedelta(hours=1)
    client.tokens.save(TokenPair(**{**pair.__dict__, "access_token_expires_at": soon}))

    client.list_categories()

    stats = cj_simulator.stats()
    assert (stats["get_access_token"], stats["refresh_access_token"]) == (1, 1)
    assert stats["calls"]["product/getCategory"] == 2
    assert client.tokens.load().access_token_expires_at > datetime.now(UTC) + timedelta(days=14)


def test_invalid_refresh_token_falls_back_to_login_once_per_5_minutes(cj_simulator):
    client = get_client()
    client.list_categories()
    pair = client.tokens.load()
    client.tokens.save(
        TokenPair(**{**pair.__dict__, "refresh_token": "0" * 32, "access_token_expires_at": datetime.now(UTC)})
    )

    # The first login was less than 5 minutes ago: the client refuses to call getAccessToken again.
    with pytest.raises(CJRateLimitedError) as raised:
        client.list_categories()

    assert raised.value.endpoint == "authentication/getAccessToken" and 290 <= raised.value.retry_after <= 300
    assert cj_simulator.stats()["get_access_token"] == 1
    assert cj_simulator.calls("authentication/refreshAccessToken") == 1


def test_a_refresh_whose_answer_was_lost_leaves_the_refresh_token_usable(cj_simulator, settings):
    # CJ returns the cached pair for 24 h (CONTRACT 2.2), so the refresh token we hold stays valid
    # even when CJ refreshed and its answer never reached us.
    settings.CJ_READ_TIMEOUT = 0.3
    client = get_client()
    client.list_categories()
    cj_simulator.expire_tokens()
    cj_simulator.fault("timeout", endpoint="authentication/refreshAccessToken", latency_ms=1000, count=1)

    with pytest.raises(CJTransientError):
        client.list_categories()
    client.list_categories()

    stats = cj_simulator.stats()
    assert (stats["get_access_token"], stats["refresh_access_token"]) == (1, 2)


def test_bad_api_key_is_an_auth_error(cj_simulator, settings):
    settings.CJ_API_KEY = "not-the-key"

    with pytest.raises(CJAuthError) as raised:
        get_client().list_categories()

    assert raised.value.code == 1600005
    assert cj_simulator.calls("product/getCategory") == 0


def test_open_id_comes_from_the_token_then_settings(cj_simulator, settings):
    settings.CJ_OPEN_ID = "42"
    assert get_client().open_id == "42"

    get_client().list_categories()

    assert get_client().open_id == "1234567890"


def test_set_webhook_validates_and_registers(cj_simulator):
    cj_simulator.reset(insecure_webhooks=False)
    client = get_client()

    with pytest.raises(CJPermanentError) as local:
        client.set_webhook(callback_url="https://127.0.0.1/api/webhooks/cj")
    with pytest.raises(CJPermanentError) as plain:
        client.set_webhook(callback_url="http://shop.example.test/api/webhooks/cj")
    client.set_webhook(callback_url="https://shop.example.test/api/webhooks/cj")

    assert (local.value.code, plain.value.code) == (1607001, 1607002)
    assert cj_simulator.webhooks()["registered"] == dict.fromkeys(
        ("product", "stock", "order", "logistics"), "https://shop.example.test/api/webhooks/cj"
    )


def test_set_webhook_accepts_local_http_when_switched_on(cj_simulator):
    get_client().set_webhook(callback_url="http://127.0.0.1:8000/api/webhooks/cj")
    get_client().set_webhook(callback_url="http://127.0.0.1:8000/api/webhooks/cj", enable=False)

    assert cj_simulator.calls("webhook/set") == 2
    assert cj_simulator.webhooks()["registered"] == {}


def test_budget_reserve_refuses_discovery_but_not_stock_or_orders(cj_simulator, settings):
    settings.CJ_DAILY_POINTS = 5_055
    settings.CJ_BUDGET_RESERVE_POINTS = 5_000
    client = get_client()

    client.list_products(size=5)  # 50 points: 5_005 left
    with pytest.raises(CJQuotaExceededError) as raised:
        client.get_product(pid=PID)  # 10 more points would dip into the 5_000 reserve
    stock = client.get_stock_by_vid(vid=VID)
    created = client.create_order(order=_order("T-5"))

    status = client.budget.status()
    assert raised.value.endpoint == "product/query"
    assert (len(stock), created.order_number) == (2, "T-5")
    assert (status.points_used, status.calls_used) == (60, 4)  # listV2 50 + stock 10; login, list, stock, order
    assert cj_simulator.calls("product/query") == 0


def test_logs_never_contain_tokens_or_the_key(cj_simulator, json_log_file):
    client = get_client()
    client.list_categories()
    cj_simulator.expire_tokens()
    client.list_categories()
    with pytest.raises(CJNotFoundError):
        client.get_product(pid="1")

    lines = json_log_file()
    text = json.dumps(lines)
    pair = client.tokens.load()
    calls = [line for line in lines if line["logger"] == "integration.cj" and line["message"] == "cj.call"]
    assert [(line["endpoint"], line["outcome"]) for line in calls] == [
        ("authentication/getAccessToken", "ok"),
        ("product/getCategory", "ok"),
        ("product/getCategory", "CJAuthError"),
        ("authentication/refreshAccessToken", "ok"),
        ("product/getCategory", "ok"),
        ("product/query", "CJNotFoundError"),
    ]
    assert all(
        {"endpoint", "method", "http_status", "cj_code", "request_id", "duration_ms", "attempt", "limiter_wait_ms"}
        <= set(line)
        for line in calls
    )
    assert pair.access_token not in text and pair.refresh_token not in text
    assert settings.CJ_API_KEY not in text


def test_client_state_lives_in_the_test_redis(cj_simulator):
    get_client().list_categories()

    keys = sorted(key.decode().split(":", 2)[2] for key in redis.Redis.from_url(settings.REDIS_URL).keys("cj:*"))

    assert keys[:2] == [f"budget:{datetime.now(UTC):%Y-%m-%d}", "limiter"]
    assert "token:pair" in keys and "token:login-guard" in keys


def test_budget_is_exported_as_metrics_and_in_health(cj_simulator, settings, client):
    settings.METRICS_TOKEN = "metrics-test-token"
    get_client().list_products(size=5)

    metrics = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-test-token").content.decode()
    health = client.get("/health").json()

    assert 'cj_budget_used{kind="points"} 50.0' in metrics
    assert 'cj_budget_remaining{kind="calls"} 99998.0' in metrics  # login + listV2
    assert health["components"]["cj"]["budget"] == {
        "day": datetime.now(UTC).strftime("%Y-%m-%d"),
        "calls_remaining": 99_998,
        "points_remaining": 49_950,
        "calls_used": 2,
        "points_used": 50,
    }
