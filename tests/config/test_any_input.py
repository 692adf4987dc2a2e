"""Any bytes on any input path answer 4xx in the API's one error format, never 5xx.

First the inputs that answered 500 (issue #17, finding 4): deeply nested JSON bodies, NUL in a
path segment or a query value, oversized query strings. Then a property-based test that throws
arbitrary JSON bodies, query strings and path segments at every route of the API, enumerated
from the URLconf (a new route is covered without touching this file), anonymously and as staff.
"""

import base64
import io
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import redis
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from drf_spectacular.generators import SchemaGenerator
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError
from rest_framework.test import APIClient

from config.parsers import MAX_JSON_DEPTH, JSONParser
from config.queues import SYNC_PRODUCTS, get_queue
from tests.catalog.factories import VariantFactory
from tests.crm.factories import CustomerFactory, LeadFactory
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


def test_a_cookie_holding_nul_is_ignored_instead_of_failing_every_page():
    # What a browser sends as `sessionid="abcdefgh\000ijkl"`: Django unquotes the octal escape.
    client = APIClient(HTTP_COOKIE='sessionid="abcdefgh\\000ijkl"; theme=dark')
    VariantFactory()

    assert client.get("/api/products").status_code == 200
    assert client.get("/api/products/999999").status_code == 404
    response = client.get("/admin/")
    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/admin/")


def test_a_query_string_with_too_many_parameters_is_400(api_client):
    query = "&".join(f"p{index}=1" for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = api_client.get(f"/api/products?{query}")

    body = _assert_error(response, 400, "parse_error")
    assert body["error"]["message"] == "The query string has too many parameters."


# --- every route, any input ------------------------------------------------------------------

_ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
_REGEX_PARAMETER = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_REGEX_LEFTOVER = re.compile(r"[\\^$()\[\]?*+|]")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Pages for a browser under /api/, not endpoints: their errors are rendered as the page is.
HTML_PAGES = {"/api/docs/", "/api/redoc/"}
EXAMPLES_PER_ROUTE = 25


def _template(pattern: Any) -> str:
    """A URL pattern as text with `{name}` for each parameter (route or regex syntax)."""
    if isinstance(pattern, RoutePattern):
        return _ROUTE_PARAMETER.sub(r"{\1}", str(pattern))
    return _REGEX_PARAMETER.sub(r"{\1}", str(pattern).removeprefix("^").removesuffix("$"))


def api_routes() -> dict[str, tuple[str, ...]]:
    """Every route under /api/ in the URLconf: path template -> the methods its view implements."""
    found: dict[str, tuple[str, ...]] = {}

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            template = prefix + _template(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, template)
            elif isinstance(entry, URLPattern) and template.startswith("api/"):
                view_class = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
                methods = tuple(m for m in METHODS if view_class is not None and hasattr(view_class, m.lower()))
                found.setdefault("/" + template, methods or METHODS)

    walk(get_resolver().url_patterns, "")
    return found


def _names(schema: dict[str, Any], node: Any) -> tuple[dict[str, list[Any]], set[str]]:
    """Query parameters (name -> its enum, if any) and body property names under a schema node,
    following $refs."""
    parameters: dict[str, list[Any]] = {}
    properties: set[str] = set()
    pending, seen = [node], set()
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            if item.get("in") == "query":
                parameters.setdefault(item["name"], []).extend(item.get("schema", {}).get("enum", []))
            properties.update(item.get("properties", {}))
            ref = item.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                seen.add(ref)
                pending.append(schema["components"]["schemas"][ref.rsplit("/", 1)[-1]])
            pending.extend(value for key, value in item.items() if key != "$ref")
    return parameters, properties


ROUTES = api_routes()
SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
ALL_QUERY_NAMES, ALL_BODY_FIELDS = _names(SCHEMA, SCHEMA["paths"])

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
_tricky = st.sampled_from(["NaN", "Infinity", "-Infinity", "sNaN", "1e999999", "-1", "0", "9" * 30, "\x00", ""])


def _json(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        _scalars | _tricky,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
        max_leaves=20,
    )


def _cursor(parts: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


def request_parts(template: str, methods: tuple[str, ...], known: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """(method, path, query string, body, content type) for one route: its documented parameters
    and body fields (from the OpenAPI schema) with arbitrary values, or anything at all."""
    parameters, body_fields = _names(SCHEMA, SCHEMA["paths"].get(template, {}))
    enums = sorted({str(value) for values in parameters.values() for value in values}) or ["1"]
    values = (
        st.text(max_size=40)
        | _tricky
        | st.sampled_from(["2026-13-45", "0001-01-01", "9999-12-31", "true", *enums])
        | st.tuples(st.sampled_from(enums) | _scalars, _tricky | _json(st.text(max_size=5)), _scalars).map(_cursor)
    )
    pairs = st.tuples(st.sampled_from(sorted(parameters or ALL_QUERY_NAMES)) | st.text(max_size=10), values)
    body_json = _json(st.sampled_from(sorted(body_fields or ALL_BODY_FIELDS)) | st.text(max_size=10))
    depths = st.sampled_from([MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 5000]) | st.integers(1, 5000)
    bodies = (
        body_json.map(lambda data: json.dumps(data).encode())
        | st.binary(max_size=100)
        | depths.map(lambda depth: ("[" * depth + "]" * depth).encode())
    )
    anything = st.text(max_size=30).map(str.encode) | st.binary(max_size=20) | st.just(b"\x00")
    segment_parts = []
    for name in re.findall(r"{(\w+)}", template):
        real = st.sampled_from([value.encode() for value in known.get(name, ["1"])])
        segment_parts.append(real | st.builds(bytes.__add__, real, anything) | anything)

    def path(segments: tuple[bytes, ...]) -> str:
        result = template
        for name, segment in zip(re.findall(r"{(\w+)}", template), segments, strict=True):
            result = result.replace("{" + name + "}", quote(segment, safe=""), 1)
        return result

    return st.tuples(
        st.sampled_from(methods) | st.sampled_from(METHODS),
        st.tuples(*segment_parts).map(path),
        st.lists(pairs, max_size=5).map(lambda drawn: urlencode(drawn, quote_via=quote)),
        bodies,
        st.sampled_from(["application/json"] * 5 + ["application/json; charset=utf-16", "text/plain"]),
    )


@pytest.fixture(params=[False, True], ids=["anonymous", "staff"])
def caller(request, db) -> APIClient:
    client = APIClient()
    if request.param:
        client.force_authenticate(get_user_model().objects.create_superuser(username="root", password="pw-root-1"))
    return client


@pytest.fixture
def known_segments(cj_simulator) -> dict[str, list[str]]:
    """Path values that name real rows, so drawn requests reach the views' found-object paths."""
    order = OrderFactory()
    job = get_queue(SYNC_PRODUCTS).enqueue("catalog.jobs.products_sync_job")
    return {
        "product_id": [str(order.items.get().variant.product_id)],
        "order_number": [order.number],
        "lead_id": [str(LeadFactory().pk)],
        "customer_id": [str(CustomerFactory().pk)],
        "job_id": [job.id],
        "cj_pid": [cj_simulator.info()["sample_pid"]],
    }


def test_every_api_route_is_enumerated_with_its_documented_names():
    assert {
        "/api/products",
        "/api/products/{product_id}",
        "/api/orders",
        "/api/orders/{order_number}",
        "/api/shipping/quote",
        "/api/crm/leads",
        "/api/crm/leads/{lead_id}",
        "/api/crm/customers/{customer_id}",
        "/api/jobs/{job_id}",
        "/api/cj/product/{cj_pid}",
        "/api/categories",
        "/api/webhooks/cj",
        "/api/schema/",
    } <= set(ROUTES)
    assert [template for template in ROUTES if _REGEX_LEFTOVER.search(template)] == []
    assert ROUTES["/api/orders"] == ("POST",)
    assert ROUTES["/api/crm/leads"] == ("GET", "POST")
    product_parameters = _names(SCHEMA, SCHEMA["paths"]["/api/products"])[0]
    assert set(product_parameters) >= {"cursor", "limit", "ordering", "q"}
    assert sorted(product_parameters["ordering"]) == ["-name", "-price", "name", "newest", "price"]
    assert _names(SCHEMA, SCHEMA["paths"]["/api/orders"])[1] >= {"email", "items", "variant_id", "shipping_address"}


@pytest.mark.parametrize("template", sorted(ROUTES))
def test_any_input_on_any_route_answers_below_500_in_the_error_format(caller, known_segments, template):
    @hypothesis_settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None)
    @given(parts=request_parts(template, ROUTES[template], known_segments))
    def probe(parts: tuple[str, str, str, bytes, str]) -> None:
        method, path, query, body, content_type = parts
        # Throttles would answer 429 after a few examples and hide the views: start each afresh.
        redis.Redis.from_url(settings.REDIS_CACHE_URL).flushdb()

        response = caller.generic(method, f"{path}?{query}", body if method != "GET" else b"", content_type)

        assert response.status_code < 500, (method, path, query, body[:200], response.content[:500])
        is_page = template in HTML_PAGES and response["Content-Type"].startswith("text/")
        if response.status_code >= 400 and not is_page:
            _assert_error(response, response.status_code, _error_body(response)["error"]["code"])

    probe()
