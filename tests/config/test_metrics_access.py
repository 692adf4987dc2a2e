"""Who may read /metrics: the bearer token whenever one is set (loopback included), and without
one only loopback callers in development; `check --deploy` warns when production has no token."""

import pytest
from django.core import checks

pytestmark = pytest.mark.django_db

TOKEN = "metrics-test-token"
PROXIED = {"REMOTE_ADDR": "127.0.0.1"}  # what a reverse proxy on the same host looks like


def _answer(response) -> tuple[int, str | None]:
    if response.status_code == 200:
        return 200, None
    return response.status_code, response.json()["error"]["code"]


def test_with_a_token_every_caller_needs_it_loopback_included(client, settings):
    settings.METRICS_TOKEN = TOKEN

    assert _answer(client.get("/metrics", **PROXIED)) == (401, "not_authenticated")
    assert _answer(client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **PROXIED)) == (401, "not_authenticated")
    assert _answer(client.get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}", **PROXIED)) == (401, "not_authenticated")
    assert _answer(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="203.0.113.7")) == (
        200,
        None,
    )


def test_without_a_token_production_refuses_every_caller_loopback_included(client, settings):
    settings.METRICS_TOKEN = ""
    settings.DEBUG = False

    response = client.get("/metrics", **PROXIED)

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": "Metrics are off: METRICS_TOKEN is not set.",
        "details": {},
    }
    assert _answer(client.get("/metrics", REMOTE_ADDR="203.0.113.7")) == (403, "permission_denied")


def test_without_a_token_development_serves_loopback_callers_only(client, settings):
    settings.METRICS_TOKEN = ""
    settings.DEBUG = True

    served = client.get("/metrics", REMOTE_ADDR="::1")

    assert served.status_code == 200
    assert b"cj_webhook_guard_alerting" in served.content
    assert _answer(client.get("/metrics", REMOTE_ADDR="203.0.113.7")) == (403, "permission_denied")


def _metrics_warnings() -> list[tuple[str, str]]:
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    return [(message.id, message.msg) for message in found if message.id == "config.W001"]


def test_check_deploy_warns_when_production_has_no_metrics_token(settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""
    assert _metrics_warnings() == [("config.W001", "METRICS_TOKEN is not set, so /metrics is off (403) in production.")]

    settings.METRICS_TOKEN = TOKEN
    assert _metrics_warnings() == []

    settings.METRICS_TOKEN = ""
    settings.DEBUG = True
    assert _metrics_warnings() == []
