"""What the client sends: our arguments and dataclasses as CJ's query parameters and bodies.
Pure functions: no HTTP, no mocks."""

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from integrations.cj import request_bodies
from integrations.cj.types import OrderLine, OrderRequest

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "cj"
VID = "2408300610371613201"


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

    body = request_bodies.order_create_body(order, default_pay_type=3)

    assert set(body) - set(sample) == {"isSandbox"}  # documented on the Sandbox page, not in the sample


def test_order_body_without_a_pay_type_sends_none():
    order = OrderRequest(
        order_number="SHOP-1002",
        shipping_country_code="DE",
        shipping_country="Germany",
        shipping_province="Berlin",
        shipping_city="Berlin",
        shipping_address="2 Example Strasse",
        shipping_customer_name="Test Buyer",
        logistic_name="YunExpress EU",
        from_country_code="CN",
        lines=(OrderLine(vid=VID, quantity=1),),
        is_sandbox=True,
    )

    body = request_bodies.order_create_body(order, default_pay_type=None)

    assert body == {
        "orderNumber": "SHOP-1002",
        "shippingZip": "",
        "shippingCountryCode": "DE",
        "shippingCountry": "Germany",
        "shippingProvince": "Berlin",
        "shippingCity": "Berlin",
        "shippingPhone": "",
        "shippingCustomerName": "Test Buyer",
        "shippingAddress": "2 Example Strasse",
        "shippingAddress2": "",
        "email": "",
        "remark": "",
        "logisticName": "YunExpress EU",
        "fromCountryCode": "CN",
        "platform": "Api",
        "shopLogisticsType": 2,
        "isSandbox": 1,
        "products": [{"vid": VID, "quantity": 1}],
    }


def test_product_list_params_carry_only_the_filters_given():
    since = datetime(2024, 9, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))

    everything = request_bodies.product_list_params(
        page=2, size=50, keyword="peeler", category_id="C1", created_from=since, created_to=datetime(2024, 9, 2)
    )
    nothing = request_bodies.product_list_params(
        page=1, size=100, keyword=None, category_id=None, created_from=None, created_to=None
    )

    assert everything == {
        "page": 2,
        "size": 50,
        "keyWord": "peeler",
        "categoryId": "C1",
        "timeStart": int(datetime(2024, 9, 1, 0, 0, tzinfo=UTC).timestamp() * 1000),
        "timeEnd": int(datetime(2024, 9, 2, tzinfo=UTC).timestamp() * 1000),
    }
    assert nothing == {"page": 1, "size": 100}


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"pid": "P1"}, {"pid": "P1", "features": ["enable_inventory"]}),
        ({"product_sku": "SKU-1"}, {"productSku": "SKU-1", "features": ["enable_inventory"]}),
        ({"variant_sku": "SKU-1-M"}, {"variantSku": "SKU-1-M", "features": ["enable_inventory"]}),
    ],
)
def test_product_query_params_by_one_key(keys, expected):
    params = request_bodies.product_query_params(
        **{"pid": None, "product_sku": None, "variant_sku": None, **keys}, with_inventory=True
    )

    assert params == expected


@pytest.mark.parametrize("keys", [{}, {"pid": "P1", "product_sku": "SKU-1"}])
def test_product_query_params_need_exactly_one_key(keys):
    with pytest.raises(ValueError, match="exactly one of pid, product_sku, variant_sku"):
        request_bodies.product_query_params(
            **{"pid": None, "product_sku": None, "variant_sku": None, **keys}, with_inventory=False
        )


def test_logistic_and_shopping_bodies():
    lines = (OrderLine(vid=VID, quantity=2, store_line_item_id="line-1"),)

    freight = request_bodies.freight_calculate_body(
        from_country_code="CN", to_country_code="US", zip="10001", lines=lines
    )
    listed = request_bodies.order_list_params(page=3, size=20, status="SHIPPED", order_ids=("A", "B"))

    assert freight == {
        "startCountryCode": "CN",
        "endCountryCode": "US",
        "zip": "10001",
        "products": [{"vid": VID, "quantity": 2}],
    }
    assert request_bodies.track_params(track_numbers=("T1", "T2")) == {"trackNumber": ["T1", "T2"]}
    assert listed == {"pageNum": 3, "pageSize": 20, "status": "SHIPPED", "orderIds": ["A", "B"]}
    assert request_bodies.order_list_params(page=1, size=50, status=None, order_ids=()) == {
        "pageNum": 1,
        "pageSize": 50,
    }
    assert request_bodies.order_id_params(order_id="2409011200000000001") == {"orderId": "2409011200000000001"}


def test_webhook_and_authentication_bodies():
    cancel = {"type": "CANCEL", "callbackUrls": ["https://shop.example.test/api/webhooks/cj"]}

    body = request_bodies.webhook_set_body(callback_url="https://shop.example.test/api/webhooks/cj", enable=False)

    assert body == {"product": cancel, "stock": cancel, "order": cancel, "logistics": cancel}
    assert request_bodies.login_body(api_key="key") == {"apiKey": "key"}
    assert request_bodies.refresh_body(refresh_token="rt") == {"refreshToken": "rt"}
