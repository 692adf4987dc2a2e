"""Django's debug pages: loopback clients only, and never a secret setting (issue #17, finding 1)."""

import sys

import pytest
from django.test import RequestFactory
from django.views.debug import technical_500_response

from config.exception_reporter import PLAIN_ANSWER, SecretSettingsFilter
from config.web_bind import web_bind_warning

pytestmark = pytest.mark.django_db

OPEN_ID = "open-id-that-must-never-leak"


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True
    settings.CJ_OPEN_ID = OPEN_ID
    return settings


def test_unknown_host_from_another_machine_gets_no_settings_page(client, debug_on):
    response = client.get("/api/products", HTTP_HOST="attacker.example", REMOTE_ADDR="203.0.113.7")

    assert (response.status_code, response.content.decode()) == (400, PLAIN_ANSWER)


def test_forwarded_header_does_not_make_a_stranger_local(client, debug_on):
    response = client.get(
        "/api/products", HTTP_HOST="attacker.example", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="127.0.0.1"
    )

    assert (response.status_code, response.content.decode()) == (400, PLAIN_ANSWER)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_client_gets_the_technical_page_with_the_open_id_masked(client, debug_on, address):
    response = client.get("/api/products", HTTP_HOST="attacker.example", REMOTE_ADDR=address)

    page = response.content.decode()
    assert response.status_code == 400
    assert "Invalid HTTP_HOST header: &#x27;attacker.example&#x27;" in page
    assert "CJ_OPEN_ID" in page
    assert OPEN_ID not in page


def test_server_error_page_is_plain_for_another_machine(debug_on):
    request = RequestFactory().get("/api/anything", REMOTE_ADDR="198.51.100.4")
    try:
        raise RuntimeError("boom with " + OPEN_ID)
    except RuntimeError:
        response = technical_500_response(request, *sys.exc_info())

    assert (response.status_code, response.content.decode()) == (500, PLAIN_ANSWER)


def test_filter_masks_open_id_signing_and_connection_urls(settings):
    settings.CJ_OPEN_ID = OPEN_ID
    settings.REDIS_URL = "redis://:redis-password@10.0.0.5:6379/0"
    settings.SENTRY_DSN = "https://public@sentry.example/1"
    settings.WEBHOOK_SIGNING_SECRET_FOR_TEST = "signing"

    safe = SecretSettingsFilter().get_safe_settings()

    masked = SecretSettingsFilter.cleansed_substitute
    names = ("CJ_OPEN_ID", "REDIS_URL", "SENTRY_DSN", "WEBHOOK_SIGNING_SECRET_FOR_TEST", "SECRET_KEY")
    assert {name: safe[name] for name in names} == dict.fromkeys(names, masked)
    assert safe["CJ_QPS"] == settings.CJ_QPS


@pytest.mark.parametrize(
    ("bind", "debug", "warns"),
    [
        ("127.0.0.1", True, False),
        ("localhost", True, False),
        ("[::1]", True, False),
        ("0.0.0.0", False, False),
        ("0.0.0.0", True, True),
        ("192.168.1.20", True, True),
    ],
)
def test_web_bind_warning_only_when_debug_listens_beyond_loopback(bind, debug, warns):
    warning = web_bind_warning(bind=bind, debug=debug)

    if warns:
        assert warning == (
            f"WARNING: DJANGO_DEBUG is on and WEB_BIND={bind} is not a loopback address: other machines "
            "can reach this development server (debug pages are shown to loopback clients only)."
        )
    else:
        assert warning is None
