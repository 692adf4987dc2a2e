"""CJ's sample payloads (tests/samples/cj, copied from the contract) through the response parsers.
Pure functions: no HTTP, no mocks."""

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from integrations.cj import responses
from integrations.cj.types import DecimalRange, FreightOption, TrackInfo, WarehouseStock

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "cj"
VID = "2408300610371613201"


def _data(name: str):
    return json.loads((SAMPLES / f"{name}.json").read_text())["data"]


def test_token_pair():
    pair = responses.parse_token_pair(_data("auth_getAccessToken"))
    refreshed = responses.parse_token_pair(_data("auth_refreshAccessToken"), open_id=pair.open_id)

    assert pair.open_id == "1234567890"
    assert pair.access_token_expires_at == datetime(2024, 9, 16, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    assert pair.refresh_token_expires_at == datetime(2025, 2, 28, 2, 0, tzinfo=UTC)
    assert (refreshed.open_id, refreshed.access_token) == ("1234567890", "b1c2d3e4f5061728394a5b6c7d8e9fa0")


def test_product_list_v2():
    page = responses.parse_product_page(_data("product_listV2"))

    assert (page.page, page.size, page.total_records, page.total_pages) == (1, 10, 2, 1)
    assert [(p.pid, p.sell_price, p.warehouse_inventory) for p in page.products] == [
        ("2408300610371613200", DecimalRange(Decimal("2.35"), Decimal("2.35")), 480),
        ("2408300610371613300", DecimalRange(Decimal("1.10"), Decimal("1.90")), 25),
    ]
    assert page.products[0].category_name == "Measuring Tools" and page.products[1].category_name is None


def test_product_query_and_variants():
    product = responses.parse_product(_data("product_query"))
    variants = responses.parse_variants(_data("product_variant_query"))
    variant = responses.parse_variant(_data("product_variant_queryByVid"))

    assert product.images == ("https://img.example.test/p/2408300610371613200-1.jpg",)
    assert [v.stock for v in product.variants] == [480, 400]
    assert [(v.vid, v.sell_price, v.weight_grams, v.stock) for v in variants] == [
        (VID, Decimal("2.35"), Decimal("85.0"), None),
        ("2408300610371613202", Decimal("2.6"), Decimal("95.0"), None),
    ]
    assert (variant.vid, variant.stock, variant.option_values) == (VID, 480, ("Black", "M"))


def test_categories():
    categories = responses.parse_categories(_data("product_getCategory"))

    assert [(c.id[-3:], c.name, c.parent_names) for c in categories] == [
        ("101", "Measuring Tools", ("Home & Garden", "Kitchen Tools")),
        ("102", "Peelers", ("Home & Garden", "Kitchen Tools")),
        ("201", "Dog Toys", ("Pet Supplies", "Dog Supplies")),
    ]


def test_stock_samples():
    by_vid = responses.parse_stock_rows(_data("product_stock_queryByVid"), vid=VID)
    by_sku = responses.parse_stock_rows(_data("product_stock_queryBySku"), vid=VID)
    by_pid = responses.parse_stock_by_pid(_data("product_stock_getInventoryByPid"))

    expected = (
        WarehouseStock(vid=VID, country_code="CN", area="China Warehouse", total=400, cj=0, factory=400),
        WarehouseStock(vid=VID, country_code="US", area="US Warehouse", total=80, cj=80, factory=0),
    )
    assert by_vid == expected
    assert [(row.vid, row.country_code, row.total) for row in by_sku] == [(VID, "CN", 400)]
    assert by_pid[VID] == expected
    assert list(by_pid) == [VID, "2408300610371613202"]


def test_freight_and_tracking():
    options = responses.parse_freight_options(_data("logistic_freightCalculate"))
    tracks = responses.parse_track_infos(_data("logistic_trackInfo"))

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
    created = responses.parse_created_order(_data(name), order_number="SHOP-1001")

    assert created.order_number == "SHOP-1001"
    assert created.order_amount == Decimal("8.91") and created.logistics_miss is False


def test_order_detail_and_list():
    detail = responses.parse_order_detail(_data("shopping_order_getOrderDetail"))
    listed = responses.parse_order_list(_data("shopping_order_list"))

    assert (detail.cj_order_id, detail.order_number, detail.status) == ("2409011200000000001", "SHOP-1001", "SHIPPED")
    assert detail.paid_at == datetime(2024, 9, 1, 4, 10, tzinfo=UTC)
    assert (detail.order_amount, detail.is_sandbox) == (Decimal("8.91"), False)
    assert detail.track_number == "CJPKTEST000000001YQ"
    assert listed == (detail,)


def test_freight_option_with_one_figure_uses_it_for_both():
    options = responses.parse_freight_options(
        [
            {"logisticName": "A", "logisticAging": "2-5", "logisticPrice": "3.10"},
            {"logisticName": "B", "logisticAging": "4-8", "totalPostageFee": 4.5},
        ]
    )

    assert options == (
        FreightOption(logistic_name="A", delivery_days="2-5", price=Decimal("3.10"), total_price=Decimal("3.10")),
        FreightOption(logistic_name="B", delivery_days="4-8", price=Decimal("4.5"), total_price=Decimal("4.5")),
    )


def test_freight_option_without_a_price_is_refused():
    with pytest.raises(responses.ParseError) as raised:
        responses.parse_freight_options([{"logisticName": "A", "logisticPrice": "", "totalPostageFee": None}])

    assert str(raised.value) == "freight option 'A' has no price"


def test_product_price_falls_back_to_its_variants_range():
    product = responses.parse_product(
        {
            "pid": "P1",
            "productNameEn": "Peeler",
            "sellPrice": "n/a",
            "variants": [
                {"vid": "V1", "variantSellPrice": "2.50"},
                {"vid": "V2", "variantSellPrice": "1.75-1.90"},
            ],
        }
    )

    assert product.sell_price == DecimalRange(low=Decimal("1.75"), high=Decimal("2.50"))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"productNameEn": "Peeler", "sellPrice": "2.00"}, "missing field 'pid'"),
        ({"pid": "P1", "sellPrice": "2.00-abc"}, "product 'P1' has no sellPrice"),
    ],
)
def test_product_without_a_required_field_is_refused(payload, message):
    with pytest.raises(responses.ParseError) as raised:
        responses.parse_product(payload)

    assert str(raised.value) == message


def test_every_sample_payload_is_valid_json():
    assert len(list(SAMPLES.glob("*.json"))) == 60
    for path in SAMPLES.glob("*.json"):
        json.loads(path.read_text())


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        # CJ's JSON number 1e999999 decodes to a float no Decimal amount holds
        (
            "variantSellPrice",
            json.loads("1e999999"),
            "variantSellPrice is 'inf', expected an amount in [0.01, 1000000)",
        ),
        ("variantSellPrice", "0", "variantSellPrice is '0', expected an amount in [0.01, 1000000)"),
        ("variantSellPrice", "1e999999", "variantSellPrice is '1e999999', expected an amount in [0.01, 1000000)"),
        ("variantWeight", "-3", "variantWeight is '-3', expected a number or a range of positive numbers"),
    ],
)
def test_a_variant_figure_out_of_range_is_refused(key, value, message):
    item = {**_data("product_variant_queryByVid"), key: value}

    with pytest.raises(responses.ImplausibleValue) as refused:
        responses.parse_variant(item)

    assert str(refused.value) == message


def test_a_stock_figure_that_is_not_a_whole_count_is_refused():
    rows = [{"vid": VID, "countryCode": "CN", "totalInventoryNum": "1e999999"}]

    with pytest.raises(responses.ImplausibleValue, match=r"^totalInventoryNum is '1e999999'"):
        responses.parse_stock_rows(rows, vid=VID)


def test_an_implausible_listing_price_is_left_to_the_detail_call():
    item = {**_data("product_listV2")["content"][0]["productList"][0], "sellPrice": "NaN", "nowPrice": None}

    summary = responses.parse_product_summary(item)

    # A 0-0 listing differs from what we hold, so the sync asks for the detail, which refuses it.
    assert summary.sell_price == DecimalRange(Decimal(0), Decimal(0))


def test_a_freight_fee_out_of_range_is_refused_and_free_shipping_is_not():
    free = responses.parse_freight_options([{"logisticName": "CJPacket", "logisticPrice": 0, "totalPostageFee": 0}])
    assert free[0].total_price == Decimal("0")

    with pytest.raises(responses.ImplausibleValue, match=r"^logisticPrice is 'inf', expected a fee in \[0, 1000000\)$"):
        responses.parse_freight_options([{"logisticName": "CJPacket", "logisticPrice": json.loads("1e999999")}])
