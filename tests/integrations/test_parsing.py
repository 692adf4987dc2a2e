"""CJ's sample payloads (tests/samples/cj, copied from the contract) through the client's parsers,
and the classification of every documented error code. Pure functions: no HTTP, no mocks."""

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from integrations.cj import parsing
from integrations.cj.errors import (
    CJAuthError,
    CJDuplicateOrderError,
    CJNotFoundError,
    CJPermanentError,
    CJQuotaExceededError,
    CJRateLimitedError,
    CJTransientError,
    classify,
)
from integrations.cj.types import DecimalRange, OrderLine, OrderRequest, TrackInfo, WarehouseStock

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "cj"
VID = "2408300610371613201"


def _data(name: str):
    return json.loads((SAMPLES / f"{name}.json").read_text())["data"]


def test_token_pair():
    pair = parsing.parse_token_pair(_data("auth_getAccessToken"))
    refreshed = parsing.parse_token_pair(_data("auth_refreshAccessToken"), open_id=pair.open_id)

    assert pair.open_id == "1234567890"
    assert pair.access_token_expires_at == datetime(2024, 9, 16, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    assert pair.refresh_token_expires_at == datetime(2025, 2, 28, 2, 0, tzinfo=UTC)
    assert (refreshed.open_id, refreshed.access_token) == ("1234567890", "b1c2d3e4f5061728394a5b6c7d8e9fa0")


def test_product_list_v2():
    page = parsing.parse_product_page(_data("product_listV2"))

    assert (page.page, page.size, page.total_records, page.total_pages) == (1, 10, 2, 1)
    assert [(p.pid, p.sell_price, p.warehouse_inventory) for p in page.products] == [
        ("2408300610371613200", DecimalRange(Decimal("2.35"), Decimal("2.35")), 480),
        ("2408300610371613300", DecimalRange(Decimal("1.10"), Decimal("1.90")), 25),
    ]
    assert page.products[0].category_name == "Measuring Tools" and page.products[1].category_name is None


def test_product_query_and_variants():
    product = parsing.parse_product(_data("product_query"))
    variants = parsing.parse_variants(_data("product_variant_query"))
    variant = parsing.parse_variant(_data("product_variant_queryByVid"))

    assert product.images == ("https://img.example.test/p/2408300610371613200-1.jpg",)
    assert [v.stock for v in product.variants] == [480, 400]
    assert [(v.vid, v.sell_price, v.weight_grams, v.stock) for v in variants] == [
        (VID, Decimal("2.35"), Decimal("85.0"), None),
        ("2408300610371613202", Decimal("2.6"), Decimal("95.0"), None),
    ]
    assert (variant.vid, variant.stock, variant.option_values) == (VID, 480, ("Black", "M"))


def test_categories():
    categories = parsing.parse_categories(_data("product_getCategory"))

    assert [(c.id[-3:], c.name, c.parent_names) for c in categories] == [
        ("101", "Measuring Tools", ("Home & Garden", "Kitchen Tools")),
        ("102", "Peelers", ("Home & Garden", "Kitchen Tools")),
        ("201", "Dog Toys", ("Pet Supplies", "Dog Supplies")),
    ]


def test_stock_samples():
    by_vid = parsing.parse_stock_rows(_data("product_stock_queryByVid"), vid=VID)
    by_sku = parsing.parse_stock_rows(_data("product_stock_queryBySku"), vid=VID)
    by_pid = parsing.parse_stock_by_pid(_data("product_stock_getInventoryByPid"))

    expected = (
        WarehouseStock(vid=VID, country_code="CN", area="China Warehouse", total=400, cj=0, factory=400),
        WarehouseStock(vid=VID, country_code="US", area="US Warehouse", total=80, cj=80, factory=0),
    )
    assert by_vid == expected
    assert [(row.vid, row.country_code, row.total) for row in by_sku] == [(VID, "CN", 400)]
    assert by_pid[VID] == expected
    assert list(by_pid) == [VID, "2408300610371613202"]


def test_freight_and_tracking():
    options = parsing.parse_freight_options(_data("logistic_freightCalculate"))
    tracks = parsing.parse_track_infos(_data("logistic_trackInfo"))

    assert [(o.logistic_name, o.delivery_days, o.price, o.total_price) for o in options] == [
        ("CJPacket Ordinary", "7-12", Decimal("4.21"), Decimal("4.21")),
        ("USPS+", "5-9", Decimal("6.05"), Decimal("6.05")),
    ]
    assert tracks == (
        TrackInfo(
            tracking_number="CJPKTEST000000001YQ",
            status="Delivered",
            delivery_days="9",
            last_mile_carrier="USPS",
            last_track_number="9400000000000000000001",
        ),
    )


@pytest.mark.parametrize("name", ["shopping_createOrderV2", "shopping_createOrderV3"])
def test_created_order(name):
    created = parsing.parse_created_order(_data(name), order_number="SHOP-1001")

    assert created.order_number == "SHOP-1001"
    assert created.order_amount == Decimal("8.91") and created.logistics_miss is False


def test_order_detail_and_list():
    detail = parsing.parse_order_detail(_data("shopping_order_getOrderDetail"))
    listed = parsing.parse_order_list(_data("shopping_order_list"))

    assert (detail.cj_order_id, detail.order_number, detail.status) == ("2409011200000000001", "SHOP-1001", "SHIPPED")
    assert detail.paid_at == datetime(2024, 9, 1, 4, 10, tzinfo=UTC)
    assert (detail.order_amount, detail.is_sandbox) == (Decimal("8.91"), False)
    assert detail.track_number == "CJPKTEST000000001YQ"
    assert listed == (detail,)


def test_order_request_body_matches_the_sample_fields():
    sample = json.loads((SAMPLES / "shopping_createOrderV2.request.json").read_text())
    order = OrderRequest(
        order_number="SHOP-1001",
        shipping_country_code="US",
        shipping_country="United States",
        shipping_province="New York",
        shipping_city="New York",
        shipping_address="1 Example Street",
        shipping_customer_name="Test Buyer",
        logistic_name="CJPacket Ordinary",
        from_country_code="CN",
        lines=(OrderLine(vid=VID, quantity=2, store_line_item_id="line-1"),),
    )

    body = parsing.order_request_body(order, default_pay_type=3)

    assert set(body) - set(sample) == {"isSandbox"}  # documented on the Sandbox page, not in the sample
    assert body["payType"] == 3 and body["products"] == [{"vid": VID, "quantity": 2, "storeLineItemId": "line-1"}]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.35", ("2.35", "2.35")),
        (2.6, ("2.6", "2.6")),
        ("2.35-2.60", ("2.35", "2.60")),
        ("2.09 -- 7.46", ("2.09", "7.46")),
        ("8.13-10.00", ("8.13", "10.00")),
        ("", None),
        ("n/a", None),
        (None, None),
    ],
)
def test_ranges(value, expected):
    parsed = parsing.to_range(value)

    assert parsed == (DecimalRange(Decimal(expected[0]), Decimal(expected[1])) if expected else None)


@pytest.mark.parametrize(
    ("sample", "endpoint", "error_class"),
    [
        ("error_1600001_invalid_token", "product/query", CJAuthError),
        ("error_1600002_missing_token", "product/query", CJAuthError),
        ("error_1600003_invalid_refresh_token", "authentication/refreshAccessToken", CJAuthError),
        ("error_1600200_rate_limited", "product/query", CJRateLimitedError),
        ("error_1600201_quota_used_up", "product/query", CJQuotaExceededError),
        ("error_daily_limit_too_many_requests", "product/listV2", CJQuotaExceededError),
        ("error_1600300_param", "product/listV2", CJPermanentError),
        ("error_1602001_product_not_found", "product/query", CJNotFoundError),
        ("error_1603100_order_not_found", "shopping/order/confirmOrder", CJNotFoundError),
        ("error_1604000_balance_insufficient", "shopping/pay/payBalance", CJPermanentError),
        ("error_1605001_logistic_invalid", "shopping/order/createOrderV2", CJPermanentError),
        ("webhook_set_error_localhost", "webhook/set", CJPermanentError),
    ],
)
def test_error_samples_are_classified(sample, endpoint, error_class):
    envelope = json.loads((SAMPLES / f"{sample}.json").read_text())

    error = classify(
        code=envelope["code"], message=envelope["message"], endpoint=endpoint, request_id=envelope["requestId"]
    )

    assert type(error) is error_class
    assert (error.code, error.request_id, error.endpoint) == (envelope["code"], envelope["requestId"], endpoint)


@pytest.mark.parametrize(
    ("code", "http_status", "endpoint", "message", "error_class"),
    [
        (1600000, 200, "product/query", "busy", CJTransientError),
        (1600301, 200, "product/query", "read timed out", CJTransientError),
        (None, 502, "product/query", "", CJTransientError),
        (None, 429, "product/query", "", CJRateLimitedError),
        (1600005, 200, "authentication/getAccessToken", "wrong key", CJAuthError),
        (1601000, 200, "authentication/getAccessToken", "User not find", CJAuthError),
        (1602000, 200, "product/variant/queryByVid", "", CJNotFoundError),
        (1602002, 200, "product/query", "", CJNotFoundError),
        (1602003, 200, "product/variant/queryByVid", "", CJNotFoundError),
        (1600300, 200, "shopping/order/getOrderDetail", "order not found", CJNotFoundError),
        (1600300, 200, "shopping/order/getOrderDetail", "orderId must be not empty", CJPermanentError),
        (1603003, 200, "shopping/order/createOrderV2", "already exists", CJDuplicateOrderError),
        (16900202, 200, "product/query", "method", CJPermanentError),
    ],
)
def test_codes_are_classified(code, http_status, endpoint, message, error_class):
    error = classify(code=code, message=message, endpoint=endpoint, request_id="r-1", http_status=http_status)

    assert type(error) is error_class


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (1602001, "variant_unavailable"),
        (1603102, "out_of_stock"),
        (1605001, "logistic_unavailable"),
        (1605002, "address_invalid"),
        (1604000, "balance_insufficient"),
        (1603003, "rejected"),
        (16900202, "rejected"),
    ],
)
def test_permanent_errors_carry_the_shops_reason(code, reason):
    error = classify(code=code, message="", endpoint="shopping/order/createOrderV2", request_id="r-1")

    assert isinstance(error, CJPermanentError)
    assert error.reason == reason


def test_every_sample_payload_is_valid_json():
    assert len(list(SAMPLES.glob("*.json"))) == 60
    for path in SAMPLES.glob("*.json"):
        json.loads(path.read_text())
