"""Each endpoint's documented answers, walked by hand: a real request for a success and for the
errors each endpoint documents, every answer checked against /api/schema/ (its status documented
for that operation, its body the documented schema: the Error component for every error), plus the
schema's own shape (one error component, typed fields, optional request fields).

Complements tests/system/test_api_fuzz.py, whose random requests rarely reach a 409 or a 422."""

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from rest_framework.throttling import ScopedRateThrottle
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.models import Variant
from config.wsgi import application
from tests.catalog.factories import ProductFactory
from tests.crm.factories import CustomerFactory, LeadFactory
from tests.orders.conftest import local_copies_of_sample_product

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
RAW = schema.raw_schema
CHECKS = [status_code_conformance, response_schema_conformance, content_type_conformance]
ERROR_REF = {"$ref": "#/components/schemas/Error"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_process(db, cj_simulator):
    """As the fuzz test: the request cycle must not close the test's DB connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _operations() -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in RAW["paths"].items()
        for method in item
        if path.startswith("/api/") and method in ("get", "post", "put", "patch", "delete")
    }


class Walk:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(self, path: str, method: str, status: int, **case_kwargs) -> dict:
        headers = {"Host": "localhost", **case_kwargs.pop("headers", {})}
        case = schema[path][method].Case(headers=headers, **case_kwargs)
        response = case.call()
        assert response.status_code == status, (path, method, response.status_code, response.text[:300])
        assert str(status) in RAW["paths"][path][method.lower()]["responses"], (path, method, status)
        case.validate_response(response, checks=CHECKS)
        self.seen.add((path, method, status))
        return response.json() if response.content else {}


def _staff_token(*perms: str) -> dict[str, str]:
    user = get_user_model().objects.create_user(username=f"staff-{len(perms)}", password="pw-staff-1", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


def _order_body(variant: Variant, quantity: int = 1) -> dict:
    return {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "shipping_address": {"line1": "1 Main St", "city": "Austin", "province": "TX", "country_code": "US"},
        "items": [{"variant_id": variant.pk, "quantity": quantity}],
    }


def test_every_operation_answers_as_documented(cj_simulator, monkeypatch):
    walk = Walk()
    variants = local_copies_of_sample_product(cj_simulator)
    product = ProductFactory()
    sales = _staff_token("crm.view_lead", "crm.add_lead", "crm.view_customer", "crm.add_customer")
    sync = _staff_token("catalog.start_sync")
    nobody = _staff_token()
    lines = [{"variant_id": variants[0].pk, "quantity": 1}]

    # catalog
    page = walk("/api/products", "GET", 200, query={"limit": 1})
    assert set(page) == {"next", "results"}
    walk("/api/products", "GET", 400, query={"limit": 0})
    walk("/api/products", "GET", 400, query={"cursor": "not-ours"})
    detail = walk("/api/products/{product_id}", "GET", 200, path_parameters={"product_id": product.pk})
    assert detail["images"] == product.images and detail["category"]["id"] == product.category_id
    walk("/api/products/{product_id}", "GET", 404, path_parameters={"product_id": 10**9})
    walk("/api/categories", "GET", 200)
    walk("/api/products/sync", "POST", 401, body={"kind": "incremental"})
    walk("/api/products/sync", "POST", 403, body={"kind": "incremental"}, headers=nobody)
    walk("/api/products/sync", "POST", 400, body={"kind": "everything"}, headers=sync)
    accepted_job = walk("/api/products/sync", "POST", 202, body={"kind": "incremental"}, headers=sync)
    assert accepted_job["status_url"] == f"http://localhost/api/jobs/{accepted_job['job_id']}"
    walk("/api/jobs/{job_id}", "GET", 200, path_parameters={"job_id": accepted_job["job_id"]}, headers=sync)
    walk("/api/jobs/{job_id}", "GET", 404, path_parameters={"job_id": "no-such-job"}, headers=sync)
    walk("/api/jobs/{job_id}", "GET", 401, path_parameters={"job_id": "no-such-job"})
    pid = cj_simulator.info()["sample_pid"]
    walk("/api/cj/product/{cj_pid}", "GET", 200, path_parameters={"cj_pid": pid}, headers=sync)
    walk("/api/cj/product/{cj_pid}", "GET", 404, path_parameters={"cj_pid": "0000"}, headers=sync)
    walk("/api/cj/product/{cj_pid}", "GET", 403, path_parameters={"cj_pid": pid}, headers=nobody)
    walk("/api/cj/stock", "GET", 200, query={"pid": pid}, headers=sync)
    walk("/api/cj/stock", "GET", 400, query={"pid": "not a pid!"}, headers=sync)

    # quotes and orders
    quote = walk("/api/shipping/quote", "POST", 200, body={"country_code": "US", "zip": "78701", "items": lines})
    assert set(quote) == {"options"} and quote["options"]
    walk("/api/shipping/quote", "POST", 400, body={"country_code": "USA", "items": lines})
    key = {"Idempotency-Key": "walk-order-0001"}
    accepted = walk("/api/orders", "POST", 202, body=_order_body(variants[0]), headers=key)
    assert accepted["status_url"] == f"http://localhost/api/orders/{accepted['number']}"
    walk("/api/orders", "POST", 422, body=_order_body(variants[0], quantity=2), headers=key)
    walk("/api/orders", "POST", 409, body=_order_body(variants[1], quantity=99))
    walk("/api/orders", "POST", 400, body={**_order_body(variants[0]), "email": "not-an-email"})
    walk("/api/orders", "POST", 401, body=_order_body(variants[0]), headers={"Authorization": "Token wrong"})
    number = {"order_number": accepted["number"]}
    order = walk(
        "/api/orders/{order_number}",
        "GET",
        200,
        path_parameters=number,
        headers={"X-Order-Token": accepted["access_token"]},
    )
    assert order["timeline"][0]["message"] == "We received your order and are waiting for your payment."
    walk("/api/orders/{order_number}", "GET", 404, path_parameters=number)
    # this client has quoted twice already
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "quotes", "2/min")
    throttled = walk("/api/shipping/quote", "POST", 429, body={"country_code": "US", "zip": "78703", "items": lines})
    assert throttled["error"]["code"] == "throttled"
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "quotes", "1000/min")
    cj_simulator.fault("http_5xx", endpoint="logistic/freightCalculate")
    walk("/api/shipping/quote", "POST", 503, body={"country_code": "DE", "zip": "10115", "items": lines})
    cj_simulator.clear_faults()

    # CRM
    walk("/api/crm/leads", "POST", 202, body={"name": "Ada", "email": "ada@example.com"})
    walk("/api/crm/leads", "POST", 400, body={"name": "Ada", "email": "nope"})
    walk("/api/crm/leads", "POST", 413, body={"name": "Ada", "email": "ada@example.com", "message": "x" * 17000})
    walk("/api/crm/leads", "GET", 401)
    walk("/api/crm/leads", "GET", 403, headers=nobody)
    lead = LeadFactory()
    leads = walk("/api/crm/leads", "GET", 200, query={"limit": 1}, headers=sales)
    assert set(leads) == {"next", "results"}
    walk("/api/crm/leads", "GET", 400, query={"status": "won"}, headers=sales)
    walk("/api/crm/leads/{lead_id}", "GET", 200, path_parameters={"lead_id": lead.pk}, headers=sales)
    walk("/api/crm/leads/{lead_id}", "GET", 404, path_parameters={"lead_id": 10**9}, headers=sales)
    customer = CustomerFactory()
    walk("/api/crm/customers", "GET", 200, query={"email": customer.email}, headers=sales)
    walk("/api/crm/customers", "POST", 201, body={"email": "new@example.com"}, headers=sales)
    walk("/api/crm/customers", "POST", 200, body={"email": "new@example.com"}, headers=sales)
    walk("/api/crm/customers", "POST", 400, body={"email": "nope"}, headers=sales)
    walk("/api/crm/customers/{customer_id}", "GET", 200, path_parameters={"customer_id": customer.pk}, headers=sales)
    walk("/api/crm/customers/{customer_id}", "GET", 404, path_parameters={"customer_id": 10**9}, headers=sales)

    # CJ's webhooks
    walk("/api/webhooks/cj", "POST", 401, body={"messageId": "m1", "type": "STOCK", "params": {}})
    # Stripe's webhooks
    walk("/api/webhooks/stripe", "POST", 400, body={"id": "evt_1", "type": "payment_intent.succeeded"})

    succeeded = {(path, method) for path, method, status in walk.seen if status < 300}
    # a signed delivery (200) is tests/webhooks' and tests/orders/test_payments.py's business
    assert succeeded | {("/api/webhooks/cj", "POST"), ("/api/webhooks/stripe", "POST")} == _operations()


def test_every_error_answer_is_the_one_error_component():
    for path, method in _operations():
        responses = RAW["paths"][path][method.lower()]["responses"]
        assert {"400", "503"} <= set(responses), (path, method)
        if "{" in path:
            assert "404" in responses, (path, method)
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"] == {"application/json": {"schema": ERROR_REF}}, (path, method, status)
    assert RAW["components"]["schemas"]["Error"] == {
        "type": "object",
        "description": "The API's one error format, whatever the status.",
        "properties": {
            "error": {"$ref": "#/components/schemas/ErrorDetail"},
            "request_id": {"type": "string", "nullable": True, "description": "The request's `X-Request-ID`."},
        },
        "required": ["error", "request_id"],
    }


def test_guarded_operations_document_401_and_403_and_throttled_ones_429():
    def statuses(path, method):
        return set(RAW["paths"][path][method]["responses"])

    assert {"401", "403"} <= statuses("/api/crm/leads", "get")
    assert {"401", "403", "404"} <= statuses("/api/jobs/{job_id}", "get")
    assert {"409", "422", "429", "413", "415"} <= statuses("/api/orders", "post")
    assert "429" in statuses("/api/shipping/quote", "post")
    assert "429" not in statuses("/api/webhooks/cj", "post")  # no throttle on CJ's pushes


def test_types_a_storefront_relies_on():
    components = RAW["components"]["schemas"]
    quote = RAW["paths"]["/api/shipping/quote"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert quote == {"$ref": "#/components/schemas/ShippingQuote"}
    assert components["ShippingQuote"]["properties"]["options"]["items"] == {
        "$ref": "#/components/schemas/FreightOption"
    }
    detail = components["ProductDetail"]["properties"]
    assert detail["images"]["items"] == {"type": "string", "format": "uri"}
    assert detail["category"] == {"allOf": [{"$ref": "#/components/schemas/CategorySummary"}], "nullable": True}
    assert components["Variant"]["properties"]["options"]["items"] == {"$ref": "#/components/schemas/VariantOption"}
    assert components["OrderItem"]["properties"]["options"]["items"] == {"$ref": "#/components/schemas/OrderItemOption"}
    assert components["OrderDetail"]["properties"]["tracking"]["allOf"] == [{"$ref": "#/components/schemas/Tracking"}]
    # every field of an answer is always there
    assert set(components["OrderDetail"]["required"]) == set(components["OrderDetail"]["properties"])
    # optional request fields are optional
    assert {"line2", "zip"}.isdisjoint(components["AddressRequest"]["required"])
    assert {"phone", "logistic_name"}.isdisjoint(components["OrderCreateRequest"]["required"])
    assert "marketing_consent" not in components["LeadCaptureRequest"]["required"]
    # path parameters are named after their resource
    assert {p for p in RAW["paths"] if "{" in p} == {
        "/api/products/{product_id}",
        "/api/orders/{order_number}",
        "/api/crm/leads/{lead_id}",
        "/api/crm/customers/{customer_id}",
        "/api/jobs/{job_id}",
        "/api/cj/product/{cj_pid}",
    }
