"""Secure headers, CORS allow-list, private metrics, and a clean `check --deploy`."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

pytestmark = pytest.mark.django_db


def test_security_headers_on_https(client):
    response = client.get("/health", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_admin_pages_cannot_be_framed(client):
    response = client.get("/admin/login/", secure=True)

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"


def test_cors_allows_listed_origin(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]

    response = client.options(
        "/api/schema/", HTTP_ORIGIN="https://shop.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )

    assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"


def test_cors_refuses_other_origin(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]

    response = client.options(
        "/api/schema/", HTTP_ORIGIN="https://evil.example.net", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )

    assert "Access-Control-Allow-Origin" not in response


def test_metrics_refuse_anonymous_callers(client, settings):
    settings.METRICS_TOKEN = "metrics-test-token"

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


def test_metrics_expose_request_histogram_and_caches_and_queues(client, settings):
    settings.METRICS_TOKEN = "metrics-test-token"
    client.get("/health")

    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-test-token")

    assert response.status_code == 200
    text = response.content.decode()
    assert 'django_http_requests_latency_seconds_by_view_method_bucket{le="0.01",method="GET",view="health"}' in text
    assert 'django_http_responses_total_by_status_view_method_total{method="GET",status="200",view="health"}' in text
    assert 'cache_requests_total{cache="default",result="miss"}' in text
    assert 'rq_jobs{queue="create-order",status="queued"}' in text


def test_admin_login_locks_out_after_repeated_failures(client):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username="boss", password="right-password-1", is_staff=True)
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/?next=/admin/", {"username": "boss", "password": "wrong"}, secure=True)

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "boss", "password": "right-password-1"}, secure=True
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "k" * 20 + "-Q7v9#mZ2xL8pR4tW1yB6nC3hF5jD0gS",
        "DJANGO_ALLOWED_HOSTS": "shop.example.com",
        "METRICS_TOKEN": "m" * 40,
    }
    env.pop("DJANGO_SECURE_SSL_REDIRECT", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
