"""The CJ client's endpoint methods over real HTTP against the simulator (tests/cj_fixtures.py)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from integrations.cj.client import get_client
from integrations.cj.errors import CJNotFoundError, CJPermanentError
from integrations.cj.types import (
    Category,
    DecimalRange,
    FreightOption,
    Inventory,
    OrderLine,
    OrderRequest,
    WarehouseStock,
)
from tests.integrations.factories import PID, VID, order_request


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
    created = client.create_order(order=order_request(logistic=options[0].logistic_name))
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
        (order_request("T-1", logistic="Pigeon Post"), CJPermanentError, 1605001),
        (order_request("T-2", vid="2408300610371613299"), CJNotFoundError, 1602000),
    ],
)
def test_create_order_permanent_errors(cj_simulator, order, error_class, code):
    with pytest.raises(error_class) as raised:
        get_client().create_order(order=order)

    assert raised.value.code == code
    assert cj_simulator.orders() == []


def test_duplicate_order_number_and_missing_order(cj_simulator):
    client = get_client()
    client.create_order(order=order_request("T-9"))

    with pytest.raises(CJPermanentError) as duplicate:
        client.create_order(order=order_request("T-9"))
    with pytest.raises(CJNotFoundError) as missing:
        client.get_order(order_id="T-404")

    assert duplicate.value.code == 1603003
    assert missing.value.code == 1600300
    assert len(cj_simulator.orders()) == 1


def test_balance_insufficient(cj_simulator):
    cj_simulator.reset(balance="1.00")
    with pytest.raises(CJPermanentError) as raised:
        get_client().create_order(order=OrderRequest(**{**order_request().__dict__, "pay_type": 2}))

    assert raised.value.code == 1604000


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
