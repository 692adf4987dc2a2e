"""Any bytes on any input path answer 4xx in the API's one error format, never 5xx.

The inputs that answered 500 (issue #17, finding 4): deeply nested JSON bodies, NUL in a path
segment or a query value, oversized query strings.
"""

import io
import json
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.exceptions import ParseError
from rest_framework.test import APIClient

from config.parsers import MAX_JSON_DEPTH, JSONParser
from tests.orders.factories import OrderFactory
from webhooks.messages import sign

pytestmark = pytest.mark.django_db

DEEP_JSON = "[" * 5000


def _superuser_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_superuser(username="root", password="pw-root-1"))
    return client


def _error_body(response) -> Any:
    """The body of an error, as JSON, or as YAML from the schema view (whose renderer DRF
    negotiates for errors too: the same structure, in the schema's media type)."""
    if response["Content-Type"].startswith("application/vnd.oai.openapi;"):
        return yaml.safe_load(response.content)
    return response.json()


def _assert_error(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    body = _error_body(response)
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["request_id"] == response["X-Request-ID"]
    return body


def _nested(depth: int) -> Any:
    data: Any = 1
    for _ in range(depth):
        data = [data]
    return data


# --- deeply nested JSON ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_staff", "path"),
    [
        (False, "/api/orders"),
        (False, "/api/shipping/quote"),
        (False, "/api/crm/leads"),
        (True, "/api/crm/customers"),
        (True, "/api/products/sync"),
    ],
)
def test_a_deeply_nested_json_body_is_400_parse_error(as_staff, path):
    client = _superuser_client() if as_staff else APIClient()

    response = client.generic("POST", path, DEEP_JSON, content_type="application/json")

    body = _assert_error(response, 400, "parse_error")
    assert body["error"] == {
        "code": "parse_error",
        "message": f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.",
        "details": {},
    }


def test_a_body_nested_past_the_limit_is_refused_and_one_at_the_limit_parses():
    def parse(data: Any) -> Any:
        return JSONParser().parse(io.BytesIO(json.dumps(data).encode()), "application/json", {})

    assert parse(_nested(MAX_JSON_DEPTH)) == _nested(MAX_JSON_DEPTH)
    assert parse({"a": [{"b": _nested(MAX_JSON_DEPTH - 3)}]}) == {"a": [{"b": _nested(MAX_JSON_DEPTH - 3)}]}
    with pytest.raises(ParseError):
        parse(_nested(MAX_JSON_DEPTH + 1))
    with pytest.raises(ParseError):
        parse({"a": [{"b": _nested(MAX_JSON_DEPTH - 2)}]})


def test_the_cj_webhook_receiver_answers_a_signed_deep_body_with_400(api_client, settings):
    # The receiver parses the raw body itself (after the signature check), not with the API parser.
    settings.CJ_OPEN_ID = "1234567890"
    body = DEEP_JSON.encode()

    response = api_client.generic(
        "POST", "/api/webhooks/cj", body, content_type="application/json", HTTP_SIGN=sign(body, "1234567890")
    )

    assert _assert_error(response, 400, "validation_error")["error"]["details"] == {
        "body": ["the body is not valid JSON"]
    }


# --- NUL and oversized query strings ---------------------------------------------------------


@pytest.mark.parametrize("as_staff", [False, True])
def test_a_nul_in_an_order_number_is_404_as_for_any_unknown_order(as_staff):
    order = OrderFactory()
    client = _superuser_client() if as_staff else APIClient()

    response = client.get(f"/api/orders/{order.number}%00", HTTP_X_ORDER_TOKEN=order.access_token)

    assert _assert_error(response, 404, "not_found")["error"] == {
        "code": "not_found",
        "message": "Not found.",
        "details": {},
    }


@pytest.mark.parametrize(
    "path",
    ["/api/products/1%00", "/api/crm/leads/1%00", "/api/crm/customers/%00", "/api/jobs/%00", "/api/cj/product/P%00"],
)
def test_a_nul_in_any_api_path_is_404(path):
    _assert_error(_superuser_client().get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/products?q=a%00b", "q"),
        ("/api/products?cursor=%00", "cursor"),
        ("/api/crm/leads?search=%00", "search"),
        ("/api/crm/customers?email=a%00@example.com", "email"),
        ("/api/cj/stock?pid=%00", "pid"),
        ("/api/products?li%00mit=1", "limit"),
    ],
)
def test_a_nul_in_any_query_parameter_is_400_naming_it(path, name):
    response = _superuser_client().get(path)

    body = _assert_error(response, 400, "validation_error")
    assert body["error"]["details"] == {name: ["Null characters are not allowed."]}


def test_a_nul_in_an_admin_filter_is_400_not_500():
    client = APIClient()
    client.force_login(get_user_model().objects.create_superuser(username="boss", password="pw-boss-1"))

    assert client.get("/admin/crm/lead/?status=%00").status_code == 400
    assert client.get("/admin/crm/lead/%00/change/").status_code == 404
    assert client.get("/admin/crm/lead/?status=new").status_code == 200


def test_a_query_string_with_too_many_parameters_is_400(api_client):
    query = "&".join(f"p{index}=1" for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = api_client.get(f"/api/products?{query}")

    body = _assert_error(response, 400, "parse_error")
    assert body["error"]["message"] == "The query string has too many parameters."
