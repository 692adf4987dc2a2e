"""Request ids and the one `http.request` line per request."""

import pytest

pytestmark = pytest.mark.django_db


def test_request_id_is_created_and_echoed(client):
    response = client.get("/health")

    assert len(response["X-Request-ID"]) == 32


def test_callers_request_id_is_kept(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="shop-abc.123")

    assert response["X-Request-ID"] == "shop-abc.123"


def test_unsafe_request_id_is_replaced(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def test_http_request_log_line_shape(client, staff_user, json_log_file):
    client.force_login(staff_user)

    response = client.get("/api/schema/", HTTP_X_REQUEST_ID="req-42")

    lines = [line for line in json_log_file() if line["message"] == "http.request"]
    assert len(lines) == 1
    line = lines[0]
    assert set(line) == {
        "timestamp", "level", "logger", "message", "request_id",
        "method", "path", "route", "status", "duration_ms", "client", "user_id",
    }  # fmt: skip
    assert line["timestamp"].endswith("+00:00")
    assert {k: line[k] for k in ("level", "logger", "request_id", "method", "path", "route", "status")} == {
        "level": "INFO",
        "logger": "http",
        "request_id": "req-42",
        "method": "GET",
        "path": "/api/schema/",
        "route": "api/schema/",
        "status": response.status_code,
    }
    assert line["user_id"] == staff_user.pk
    assert line["client"] == "127.0.0.1"
    assert line["duration_ms"] >= 0
