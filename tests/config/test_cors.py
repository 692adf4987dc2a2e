"""CORS for a browser storefront on another origin: the order flow's own request headers pass the
preflight, and the request id and Retry-After are readable by its script."""

from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db

STOREFRONT = "https://shop.example.com"


@pytest.fixture(autouse=True)
def _storefront_allowed(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = [STOREFRONT]


def _preflight(client: Client, *, path: str, method: str, headers: str, origin: str) -> "_MonkeyPatchedWSGIResponse":
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def _allowed_headers(response: "_MonkeyPatchedWSGIResponse") -> set[str]:
    return {name.strip() for name in response["Access-Control-Allow-Headers"].split(",")}


def test_order_preflight_from_the_storefront_allows_the_idempotency_key(client: Client) -> None:
    response = _preflight(
        client, path="/api/orders", method="POST", headers="content-type, idempotency-key", origin=STOREFRONT
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == STOREFRONT
    assert "POST" in response["Access-Control-Allow-Methods"].split(", ")
    assert {"content-type", "idempotency-key"} <= _allowed_headers(response)


def test_order_status_preflight_from_the_storefront_allows_the_order_token(client: Client) -> None:
    response = _preflight(
        client, path="/api/orders/ORD-1", method="GET", headers="x-order-token, x-request-id", origin=STOREFRONT
    )

    assert response["Access-Control-Allow-Origin"] == STOREFRONT
    assert {"x-order-token", "x-request-id"} <= _allowed_headers(response)


def test_order_preflight_from_another_origin_allows_nothing(client: Client) -> None:
    response = _preflight(
        client,
        path="/api/orders",
        method="POST",
        headers="content-type, idempotency-key",
        origin="https://evil.example.net",
    )

    assert [name for name in response.headers if name.lower().startswith("access-control-")] == []


def test_storefront_can_read_the_request_id_and_retry_after(client: Client) -> None:
    response = client.get("/api/products", HTTP_ORIGIN=STOREFRONT)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == STOREFRONT
    assert response["Access-Control-Expose-Headers"] == "X-Request-ID, Retry-After"
    assert response["X-Request-ID"]


def test_another_origin_is_exposed_nothing(client: Client) -> None:
    response = client.get("/api/products", HTTP_ORIGIN="https://evil.example.net")

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Expose-Headers" not in response
