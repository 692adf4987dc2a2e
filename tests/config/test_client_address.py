"""Who a client is: X-Forwarded-For counts only behind `TRUSTED_PROXY_COUNT` proxies (issue #17,
finding 2): throttles, the admin lock-out and the request log agree."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory

from config.client_address import client_address

pytestmark = pytest.mark.django_db

LEADS_URL = "/api/crm/leads"


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    return settings


def _lead(api_client, n, **headers):
    body = {"name": "Ada", "email": f"ada{n}@example.com"}
    return api_client.post(LEADS_URL, body, format="json", **headers).status_code


def test_changing_forwarded_header_does_not_escape_the_lead_throttle(api_client, settings):
    settings.CRM_LEAD_THROTTLE_RATE = "10/min"

    statuses = [
        _lead(api_client, n, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}") for n in range(12)
    ]

    assert [status == 429 for status in statuses] == [False] * 10 + [True] * 2
    assert all(status < 300 for status in statuses[:10]), statuses


def test_behind_one_proxy_the_right_most_entry_is_the_client(api_client, behind_one_proxy):
    behind_one_proxy.CRM_LEAD_THROTTLE_RATE = "2/min"
    # The proxy (10.0.0.2) appends the address it saw; whatever the caller wrote stays on the left.
    spoofed = [
        _lead(api_client, n, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7")
        for n in range(3)
    ]
    other_client = _lead(api_client, 9, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.8")

    assert [status == 429 for status in spoofed] == [False, False, True]
    assert other_client < 300


@pytest.mark.parametrize(
    ("proxy_count", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "203.0.113.7"),
        (0, None, "203.0.113.7"),
        (1, None, "203.0.113.7"),
        (1, "198.51.100.1, 192.0.2.9", "192.0.2.9"),
        (2, "198.51.100.1, 192.0.2.9, 10.0.0.3", "192.0.2.9"),
        (3, "192.0.2.9", "192.0.2.9"),
    ],
)
def test_client_address(settings, proxy_count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxy_count
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}

    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7", **headers)

    assert client_address(request) == expected


def _login(client, username, password, address, forwarded):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        secure=True,
        REMOTE_ADDR=address,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_admin_lock_out_ignores_a_changing_forwarded_header(client):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username="boss", password="right-password-1", is_staff=True)
    for n in range(django_settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        _login(client, "boss", "wrong", "203.0.113.7", f"198.51.100.{n}")

    response = _login(client, "boss", "right-password-1", "203.0.113.7", "198.51.100.99")

    assert response.status_code == 429


def test_request_log_names_the_client_behind_the_proxy(client, behind_one_proxy, json_log_file):
    client.get("/health", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7")
    client.get("/health", REMOTE_ADDR="10.0.0.2")

    lines = [line["client"] for line in json_log_file() if line["message"] == "http.request"]
    assert lines == ["203.0.113.7", "10.0.0.2"]


def test_drf_and_axes_read_the_one_setting():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "TRUSTED_PROXY_COUNT": "2"}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.TRUSTED_PROXY_COUNT, s.REST_FRAMEWORK['NUM_PROXIES'], s.AXES_CLIENT_IP_CALLABLE)"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=django_settings.BASE_DIR, capture_output=True, text=True, timeout=60
    )

    # The last line: axes logs its start-up on stdout first.
    assert result.stdout.splitlines()[-1] == "2 2 config.client_address.client_address", result.stderr
