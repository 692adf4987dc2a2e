"""Order intake over HTTP: quotes, validation, stock, idempotency, reading an order."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psycopg
import pytest
import requests
from django.core.cache import caches
from django.db import connection
from rest_framework.throttling import ScopedRateThrottle

from catalog.models import Product, Variant
from config.queues import CREATE_ORDER, get_queue
from crm.models import Customer
from orders.models import Order, OrderEvent
from tests.crm.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ADDRESS = {"line1": "1 Main St", "city": "Austin", "province": "TX", "zip": "78701", "country_code": "us"}


def _order_body(variant, quantity=2, **overrides):
    body = {
        "email": "  Ada@Example.com ",
        "name": "Ada Lovelace",
        "phone": "+1 512 555 0100",
        "shipping_address": dict(ADDRESS),
        "items": [{"variant_id": variant.pk, "quantity": quantity}],
    }
    body.update(overrides)
    return body


def _error(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    return response.json()["error"]


def test_quote_lists_cj_options_and_caches_them(api_client, sim_variants, cj_simulator):
    body = {"country_code": "US", "zip": "78701", "items": [{"variant_id": sim_variants[0].pk, "quantity": 1}]}

    first = api_client.post("/api/shipping/quote", body, format="json")
    second = api_client.post("/api/shipping/quote", body, format="json")

    assert first.status_code == 200
    options = first.json()["options"]
    assert options and set(options[0]) == {"logistic_name", "price", "currency", "delivery_days"}
    assert [Decimal(option["price"]) for option in options] == sorted(Decimal(option["price"]) for option in options)
    assert second.json() == first.json()
    assert cj_simulator.calls("logistic/freightCalculate") == 1


def test_quote_to_a_destination_cj_refuses_is_400_on_the_country(api_client, sim_variants):
    body = {"country_code": "ZZ", "items": [{"variant_id": sim_variants[0].pk, "quantity": 1}]}

    error = _error(api_client.post("/api/shipping/quote", body, format="json"), 400, "validation_error")

    assert error == {
        "code": "validation_error",
        "message": "The request has invalid fields; see details.",
        "details": {"country_code": ["CJ cannot ship there: country code not found: ZZ"]},
    }


def test_quote_and_order_while_cj_does_not_answer_are_503(api_client, sim_variants, cj_simulator):
    cj_simulator.fault("http_5xx", endpoint="logistic/freightCalculate", status=502)
    quote = {"country_code": "US", "zip": "78701", "items": [{"variant_id": sim_variants[0].pk, "quantity": 1}]}
    expected = {
        "code": "service_unavailable",
        "message": "Shipping quotes are unavailable right now; try again shortly.",
        "details": {},
    }

    assert _error(api_client.post("/api/shipping/quote", quote, format="json"), 503, "service_unavailable") == expected
    order = api_client.post("/api/orders", _order_body(sim_variants[0]), format="json")
    assert _error(order, 503, "service_unavailable") == expected
    assert Order.objects.count() == 0


def test_order_is_accepted_reserved_and_waits_for_its_payment(
    api_client, sim_variants, django_capture_on_commit_callbacks, localstripe
):
    variant = sim_variants[0]

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/orders", _order_body(variant, quantity=3), format="json")

    assert response.status_code == 202
    body = response.json()
    order = Order.objects.get()
    intent = localstripe.payment_intent(order.payment_intent_id)
    assert body == {
        "number": order.number,
        "status": "awaiting_payment",
        "access_token": order.access_token,
        "status_url": f"http://testserver/api/orders/{order.number}",
        "payment": {
            "provider": "stripe",
            "amount": str(order.total),
            "currency": "USD",
            "payment_intent_id": order.payment_intent_id,
            "client_secret": intent["client_secret"],
            "reference": None,
        },
    }
    assert (intent["amount"], intent["currency"], intent["metadata"], intent["status"]) == (
        int(order.total * 100),
        "usd",
        {"order_number": order.number},
        "requires_payment_method",
    )
    assert Variant.objects.get(pk=variant.pk).stock == 7
    assert order.customer == Customer.objects.get(email="ada@example.com")
    assert (order.shipping_country_code, order.items_total) == ("US", Decimal("29.70"))
    assert order.total == order.items_total + order.shipping_total
    assert list(order.events.values_list("to_status", flat=True)) == ["awaiting_payment"]
    assert get_queue(CREATE_ORDER).count == 0  # nothing goes to CJ before the buyer pays


def test_anonymous_order_with_a_known_email_leaves_the_customer_row_unchanged(api_client, sim_variants):
    CustomerFactory(email="ada@example.com", name="Ada", phone="")
    before = list(Customer.objects.values())

    response = api_client.post("/api/orders", _order_body(sim_variants[0], name="Mallory"), format="json")

    assert response.status_code == 202
    order = Order.objects.get()
    assert (order.customer.email, order.phone, order.shipping_name, order.shipping_line1) == (
        "ada@example.com",
        "+1 512 555 0100",
        "Mallory",
        "1 Main St",
    )
    assert list(Customer.objects.values()) == before


def test_prices_sent_by_the_client_are_ignored(api_client, sim_variants):
    body = _order_body(sim_variants[0], quantity=1, total="0.01")
    body["items"][0]["unit_price"] = "0.01"

    response = api_client.post("/api/orders", body, format="json")

    assert response.status_code == 202
    order = Order.objects.get()
    assert order.items.get().unit_price == Decimal("9.90")
    assert order.items_total == Decimal("9.90")


def test_validation_errors_name_each_field(api_client, sim_variants):
    body = {
        "email": "not-an-email",
        "name": "",
        "shipping_address": {"line1": "x", "city": "y", "province": "z", "country_code": "USA"},
        "items": [{"variant_id": sim_variants[0].pk, "quantity": 100}],
    }

    error = _error(api_client.post("/api/orders", body, format="json"), 400, "validation_error")

    assert error["details"] == {
        "email": ["Enter a valid email address."],
        "name": ["This field may not be blank."],
        "shipping_address": {"country_code": ["Two letters (ISO 3166-1)."]},
        "items": {"0": {"quantity": ["Ensure this value is less than or equal to 99."]}},
    }
    assert Order.objects.count() == 0


def test_unknown_and_inactive_variants_are_refused(api_client, sim_variants):
    Variant.objects.filter(pk=sim_variants[1].pk).update(status=Variant.Status.INACTIVE)
    body = _order_body(sim_variants[0])
    body["items"] = [{"variant_id": 999999, "quantity": 1}, {"variant_id": sim_variants[1].pk, "quantity": 1}]

    error = _error(api_client.post("/api/orders", body, format="json"), 400, "validation_error")

    assert error["details"] == {
        "items": {"0": ["This variant does not exist."], "1": ["This variant is not available."]}
    }


def test_a_draft_products_variant_is_refused_and_nothing_is_reserved_or_quoted(api_client, sim_variants, cj_simulator):
    Product.objects.filter(pk=sim_variants[0].product_id).update(is_published=False)
    freight_calls = cj_simulator.calls("logistic/freightCalculate")

    error = _error(api_client.post("/api/orders", _order_body(sim_variants[0]), format="json"), 400, "validation_error")
    quote = api_client.post(
        "/api/shipping/quote",
        {"country_code": "US", "zip": "78701", "items": [{"variant_id": sim_variants[0].pk, "quantity": 1}]},
        format="json",
    )

    assert error["details"] == {"items": {"0": ["This variant is not available."]}}
    assert quote.status_code == 400
    assert quote.json()["error"]["details"] == {"items": {"0": ["This variant is not available."]}}
    assert Order.objects.count() == 0
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 10
    assert cj_simulator.calls("logistic/freightCalculate") == freight_calls


def test_duplicate_lines_and_empty_items_are_refused(api_client, sim_variants):
    body = _order_body(sim_variants[0])
    body["items"] = body["items"] * 2

    error = _error(api_client.post("/api/orders", body, format="json"), 400, "validation_error")

    assert error["details"] == {"items": ["Each variant may appear once; raise its quantity instead."]}
    empty = _error(api_client.post("/api/orders", _order_body(sim_variants[0], items=[]), format="json"), 400,
                   "validation_error")  # fmt: skip
    assert empty["details"] == {"items": {"non_field_errors": ["This list may not be empty."]}}


def test_logistic_name_must_be_a_quoted_option(api_client, sim_variants):
    body = _order_body(sim_variants[0], logistic_name="Teleport Express")

    error = _error(api_client.post("/api/orders", body, format="json"), 400, "validation_error")

    assert list(error["details"]) == ["logistic_name"]
    assert error["details"]["logistic_name"][0].startswith("Not one of the quoted options: ")


def test_not_enough_stock_is_409_and_takes_nothing(api_client, sim_variants):
    Variant.objects.filter(pk=sim_variants[0].pk).update(stock=1)

    error = _error(api_client.post("/api/orders", _order_body(sim_variants[0], quantity=2), format="json"), 409,
                   "out_of_stock")  # fmt: skip

    assert error["details"] == {"items": {"0": ["Not enough stock for this quantity."]}}
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 1
    assert Order.objects.count() == 0


def test_same_idempotency_key_and_body_returns_the_first_answer(api_client, sim_variants):
    body = _order_body(sim_variants[0])

    first = api_client.post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="key-00000001")
    again = api_client.post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="key-00000001")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 8


def test_replay_over_http_asks_cj_for_no_quote(api_client, sim_variants, cj_simulator):
    body = _order_body(sim_variants[0])
    first = api_client.post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="key-00000004")
    caches["freight"].clear()

    again = api_client.post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="key-00000004")

    assert (again.status_code, again.json()) == (202, first.json())
    assert cj_simulator.calls("logistic/freightCalculate") == 1


def test_same_idempotency_key_with_another_body_is_422(api_client, sim_variants):
    api_client.post("/api/orders", _order_body(sim_variants[0]), format="json", HTTP_IDEMPOTENCY_KEY="key-00000002")

    response = api_client.post(
        "/api/orders", _order_body(sim_variants[0], quantity=5), format="json", HTTP_IDEMPOTENCY_KEY="key-00000002"
    )

    _error(response, 422, "idempotency_key_mismatch")
    assert Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_idempotency_key_in_flight_is_409(api_client, sim_variants):
    key = "key-00000003"
    settings = connection.settings_dict
    # Another request holds the key: its transaction holds the key's advisory lock.
    with psycopg.connect(dbname=settings["NAME"], host=settings["HOST"], port=settings["PORT"],
                         user=settings["USER"]) as other:  # fmt: skip
        other.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"order-idem:{key}"])

        response = api_client.post("/api/orders", _order_body(sim_variants[0]), format="json", HTTP_IDEMPOTENCY_KEY=key)

    _error(response, 409, "idempotency_key_in_flight")
    assert Order.objects.count() == 0
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 10


def test_bad_idempotency_key_is_400(api_client, sim_variants):
    response = api_client.post("/api/orders", _order_body(sim_variants[0]), format="json", HTTP_IDEMPOTENCY_KEY="x")

    assert _error(response, 400, "validation_error")["details"] == {
        "Idempotency-Key": ["8 to 100 characters: letters, digits, _.:-"]
    }


def test_reading_an_order_needs_its_token_or_staff(api_client, staff_client, sim_variants):
    accepted = api_client.post("/api/orders", _order_body(sim_variants[0]), format="json").json()
    url = accepted["status_url"]

    assert _error(api_client.get(url), 404, "not_found")
    assert _error(api_client.get(url, HTTP_X_ORDER_TOKEN="wrong"), 404, "not_found")
    mine = api_client.get(url, HTTP_X_ORDER_TOKEN=accepted["access_token"])
    assert mine.status_code == 200
    body = mine.json()
    assert set(body) == {"number", "status", "created_at", "currency", "items", "items_total", "shipping_total",
                         "total", "logistic_name", "tracking", "timeline"}  # fmt: skip
    assert body["items"] == [
        {
            "variant_id": sim_variants[0].pk,
            "sku": sim_variants[0].sku,
            "name": sim_variants[0].product.name,
            "options": [{"name": "Color", "value": "Black"}, {"name": "Size", "value": "M"}],
            "quantity": 2,
            "unit_price": "9.90",
        }
    ]
    assert body["tracking"] == {"number": None, "url": None}
    event = OrderEvent.objects.get(order__number=accepted["number"])
    assert event.message == "Order accepted; stock reserved until the buyer pays."  # staff's wording, in the admin only
    at = event.created_at.isoformat().replace("+00:00", "Z")
    assert body["timeline"] == [
        {"at": at, "status": "awaiting_payment", "message": "We received your order and are waiting for your payment."}
    ]
    assert staff_client.get(url).json() == body


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_orders_for_the_last_ten_units(live_server, sim_variants, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "orders", "1000/min")
    variant = sim_variants[0]
    Variant.objects.filter(pk=variant.pk).update(stock=10)
    # Quote once so that the concurrent orders share the cached quote.
    requests.post(f"{live_server.url}/api/shipping/quote", json={"country_code": "US", "zip": "78701",
                  "items": [{"variant_id": variant.pk, "quantity": 1}]}, timeout=10)  # fmt: skip

    def place(n):
        body = _order_body(variant, quantity=1, email=f"buyer{n}@example.com")
        return requests.post(f"{live_server.url}/api/orders", json=body, timeout=30)

    with ThreadPoolExecutor(max_workers=25) as pool:
        responses = list(pool.map(place, range(50)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(202) == 10, statuses
    refused = [response for response in responses if response.status_code != 202]
    assert {(r.status_code, r.json()["error"]["code"]) for r in refused} == {(409, "out_of_stock")}
    assert Variant.objects.get(pk=variant.pk).stock == 0
    assert Order.objects.count() == 10
