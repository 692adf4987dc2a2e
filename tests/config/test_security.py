"""Secure headers, CSP, CORS allow-list, private metrics, the admin lock-out, static files in
production, and a clean `check --deploy`."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from orders.models import Order
from tests.orders.conftest import local_copies_of_sample_product
from tests.orders.factories import OrderFactory

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
    get_user_model().objects.create_user(username="boss", password="right-password-1", is_staff=True)
    for _ in range(django_settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        client.post("/admin/login/?next=/admin/", {"username": "boss", "password": "wrong"}, secure=True)

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "boss", "password": "right-password-1"}, secure=True
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def _login(client, username, password, address="203.0.113.7"):
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}, secure=True, REMOTE_ADDR=address
    )


def test_one_address_trying_a_few_passwords_on_every_account_is_locked_out(client, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 5
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 20
    users = get_user_model().objects
    for n in range(6):
        users.create_user(username=f"staff{n}", password="right-password-1", is_staff=True)
    # given: 4 wrong passwords on each of five accounts, under the per-account limit every time
    for n in range(5):
        for attempt in range(4):
            _login(client, f"staff{n}", f"guess-{attempt}")

    # when: the right password of a sixth account, from that address and from another one
    locked = _login(client, "staff5", "right-password-1")
    elsewhere = _login(client, "staff5", "right-password-1", address="198.51.100.4")

    # then
    assert locked.status_code == 429
    assert (elsewhere.status_code, elsewhere["Location"]) == (302, "/admin/")


def test_a_few_mistakes_on_two_accounts_do_not_lock_the_address_out(client, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 5
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 20
    for n in range(3):
        get_user_model().objects.create_user(username=f"staff{n}", password="right-password-1", is_staff=True)
    for n in range(2):
        for attempt in range(4):
            _login(client, f"staff{n}", f"typo-{attempt}")

    response = _login(client, "staff2", "right-password-1")

    assert (response.status_code, response["Location"]) == (302, "/admin/")


NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"


def test_order_page_and_its_not_found_answer_are_never_stored(api_client):
    order = OrderFactory()

    page = api_client.get(f"/api/orders/{order.number}", HTTP_X_ORDER_TOKEN=order.access_token)
    wrong_token = api_client.get(f"/api/orders/{order.number}", HTTP_X_ORDER_TOKEN="wrong")

    assert (page.status_code, page["Cache-Control"]) == (200, NO_STORE)
    assert (wrong_token.status_code, wrong_token["Cache-Control"]) == (404, NO_STORE)


def test_order_accepted_answer_is_never_stored(api_client, cj_simulator, django_capture_on_commit_callbacks):
    variant = local_copies_of_sample_product(cj_simulator)[0]
    body = {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "shipping_address": {
            "line1": "1 Main St",
            "city": "Austin",
            "province": "TX",
            "zip": "78701",
            "country_code": "US",
        },
        "items": [{"variant_id": variant.pk, "quantity": 1}],
    }

    with django_capture_on_commit_callbacks(execute=False):
        response = api_client.post("/api/orders", body, format="json")

    assert (response.status_code, response["Cache-Control"]) == (202, NO_STORE)
    assert response.json()["access_token"] == Order.objects.get().access_token


def _policy(response) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response["Content-Security-Policy"].split(";")]
    return {name: sorted(values) for name, *values in directives}


STRICT_POLICY = {
    "default-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "style-src-attr": ["'unsafe-inline'"],
}


def test_admin_pages_have_a_self_only_content_security_policy(client, staff_user):
    login = client.get("/admin/login/", secure=True)
    client.force_login(staff_user)
    index = client.get("/admin/", secure=True)

    assert (login.status_code, _policy(login)) == (200, STRICT_POLICY)
    assert (index.status_code, _policy(index)) == (200, STRICT_POLICY)


def test_api_docs_page_loads_swagger_ui_from_our_static_files_with_nonced_inline_elements(client):
    response = client.get("/api/docs/")

    page = response.content.decode()
    nonces = re.findall(r'<(?:script|style) nonce="([^"]+)">', page)
    assert response.status_code == 200
    assert len(nonces) == 2 and nonces[0] == nonces[1]
    assert '<script src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js">' in page
    assert "https://" not in page
    assert _policy(response) == {
        **STRICT_POLICY,
        "script-src": sorted(["'self'", f"'nonce-{nonces[0]}'"]),
        "style-src": sorted(["'self'", f"'nonce-{nonces[0]}'"]),
        "img-src": sorted(["'self'", "data:"]),
        "connect-src": ["'self'"],
    }


def test_redoc_page_loads_redoc_from_our_static_files_with_a_self_only_policy(client):
    response = client.get("/api/redoc/")

    page = response.content.decode()
    assert response.status_code == 200
    assert '<script src="/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js">' in page
    assert "https://" not in page
    # Without REDOC_UI_SETTINGS the page has no inline script, so no nonce is ever issued.
    assert _policy(response) == {
        **STRICT_POLICY,
        "script-src": ["'self'"],
        "style-src": sorted(["'self'", "'unsafe-inline'"]),
        "img-src": sorted(["'self'", "data:"]),
        "connect-src": ["'self'"],
        "worker-src": sorted(["'self'", "blob:"]),
    }


def test_bootstrap_collects_static_files_outside_debug(settings, tmp_path, capsys):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"

    call_command("bootstrap")

    assert (tmp_path / "static" / "admin" / "css" / "base.css").is_file()
    assert f"static files collected in {tmp_path / 'static'}" in capsys.readouterr().out


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "k" * 20 + "-Q7v9#mZ2xL8pR4tW1yB6nC3hF5jD0gS",
        "DJANGO_ALLOWED_HOSTS": "shop.example.com",
        "DJANGO_BEHIND_TLS_PROXY": "true",
        "TRUSTED_PROXY_COUNT": "1",
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
