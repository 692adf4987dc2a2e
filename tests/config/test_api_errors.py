"""Every error under /api/ comes in the one JSON format."""

import pytest

pytestmark = [pytest.mark.urls("tests.config.urls"), pytest.mark.django_db]


def _error(response, status, code):
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_validation_error_lists_each_field(api_client):
    response = api_client.post("/api/test/echo", {"name": "x" * 11, "quantity": 0}, format="json")

    body = _error(response, 400, "validation_error")
    assert body["error"]["details"] == {
        "name": ["Ensure this field has no more than 10 characters."],
        "quantity": ["Ensure this value is greater than or equal to 1."],
    }


def test_a_domain_error_is_answered_with_its_status_code_message_and_details(api_client):
    response = api_client.post("/api/test/refused", {}, format="json")

    body = _error(response, 410, "gone")
    assert body["error"] == {"code": "gone", "message": "It is gone.", "details": {"thing": ["Gone since yesterday."]}}


def test_a_suspicious_operation_inside_a_view_is_400_not_500(api_client):
    _error(api_client.get("/api/test/suspicious"), 400, "parse_error")


def test_an_api_request_for_a_host_we_do_not_serve_is_a_json_400(api_client):
    response = api_client.get("/api/test/echo", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "bad_request"


def test_malformed_json_is_400(api_client):
    response = api_client.generic("POST", "/api/test/echo", "{not json", content_type="application/json")

    _error(response, 400, "parse_error")


def test_unknown_api_path_is_404(api_client):
    _error(api_client.get("/api/no-such-thing"), 404, "not_found")


def test_wrong_method_is_405(api_client):
    _error(api_client.delete("/api/test/echo"), 405, "method_not_allowed")


def test_form_body_is_415(api_client):
    response = api_client.post("/api/test/echo", "name=a", content_type="application/x-www-form-urlencoded")

    _error(response, 415, "unsupported_media_type")


def test_throttled_is_429_with_retry_after(api_client):
    assert api_client.get("/api/test/throttled").status_code == 200

    response = api_client.get("/api/test/throttled")

    body = _error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    assert body["error"]["details"] == {"retry_after_seconds": int(response["Retry-After"])}


def test_unhandled_exception_is_500_json_and_logged_with_stack(api_client, json_log_file):
    response = api_client.get("/api/test/boom")

    body = _error(response, 500, "server_error")
    assert "boom" not in body["error"]["message"]
    lines = [line for line in json_log_file() if line["message"] == "api.unhandled_exception"]
    assert len(lines) == 1
    assert "RuntimeError: boom" in lines[0]["exc_info"]
    assert lines[0]["request_id"] == body["request_id"]


def test_oversized_body_is_413(api_client):
    response = api_client.post("/api/test/echo", {"name": "x" * (1024 * 1024 + 1)}, format="json")

    _error(response, 413, "payload_too_large")


def test_database_or_redis_outage_inside_a_view_is_503(api_client, monkeypatch):
    import redis
    from django.db import OperationalError

    from tests.config import views_for_tests

    for error in (OperationalError("server closed the connection"), redis.ConnectionError("refused")):
        monkeypatch.setattr(
            views_for_tests.BoomView, "get", lambda self, request, error=error: (_ for _ in ()).throw(error)
        )

        _error(api_client.get("/api/test/boom"), 503, "service_unavailable")
