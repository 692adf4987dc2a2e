"""The CJ transport under every endpoint, over real HTTP against the simulator (tests/cj_fixtures.py):
retries, throttling, shared tokens, the daily budget, logs and metrics."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.conf import settings

from integrations.cj.client import get_client
from integrations.cj.errors import (
    CJAuthError,
    CJNotFoundError,
    CJQuotaExceededError,
    CJRateLimitedError,
    CJTransientError,
)
from integrations.cj.types import OrderLine, TokenPair
from tests.integrations.factories import PID, VID, order_request


def test_timeout_on_order_creation_is_not_repeated(cj_simulator, settings):
    settings.CJ_READ_TIMEOUT = 0.3
    cj_simulator.fault("timeout", endpoint="shopping/order/createOrderV2", latency_ms=1000, count=1)

    with pytest.raises(CJTransientError) as raised:
        get_client().create_order(order=order_request("T-77"))

    assert raised.value.message == "timed out"
    assert cj_simulator.calls("shopping/order/createOrderV2") == 1
    # CJ did create it: the caller finds it by our number instead of creating it again.
    assert get_client().get_order(order_id="T-77").order_number == "T-77"


@pytest.mark.parametrize("kind", ["http_5xx", "busy", "timeout", "throttle"])
def test_transient_faults_on_reads_are_retried(cj_simulator, settings, kind):
    settings.CJ_READ_TIMEOUT = 0.3
    cj_simulator.fault(kind, endpoint="product/query", count=2, latency_ms=600)

    product = get_client().get_product(pid=PID)

    assert product.pid == PID
    assert cj_simulator.calls("product/query") == 3


def test_transient_faults_beyond_the_retry_budget_raise(cj_simulator):
    cj_simulator.fault("http_5xx", endpoint="product/getCategory", count=5, status=503)

    with pytest.raises(CJTransientError) as raised:
        get_client().list_categories()

    assert raised.value.code is None and "503" in raised.value.message
    assert cj_simulator.calls("product/getCategory") == settings.CJ_RETRY_ATTEMPTS == 3


def test_throttled_answer_raises_rate_limited_and_backs_off_limiter(cj_simulator, settings):
    settings.CJ_RETRY_ATTEMPTS = 1
    settings.CJ_THROTTLE_BACKOFF = 0.5
    cj_simulator.fault("throttle", endpoint="product/getCategory", count=1)
    client = get_client()

    with pytest.raises(CJRateLimitedError) as raised:
        client.list_categories()
    waited = client.limiter.acquire()

    assert (raised.value.code, raised.value.retry_after) == (1600200, 0.5)
    assert 0.3 < waited <= 0.5


def test_http_429_is_rate_limited(cj_simulator, settings):
    settings.CJ_RETRY_ATTEMPTS = 1
    cj_simulator.reset(throttle_http_429=True)
    cj_simulator.fault("throttle", endpoint="product/getCategory", count=1)

    with pytest.raises(CJRateLimitedError) as raised:
        get_client().list_categories()

    assert raised.value.code == 1600200


def test_token_is_shared_and_refreshed_when_cj_rejects_it(cj_simulator):
    client = get_client()
    client.list_categories()
    first = client.tokens.load()

    cj_simulator.advance_clock(16 * 24 * 3600)  # past the 15-day access token
    client.list_categories()
    second = client.tokens.load()

    stats = cj_simulator.stats()
    assert (stats["get_access_token"], stats["refresh_access_token"]) == (1, 1)
    assert stats["calls"]["product/getCategory"] == 3  # the rejected call was repeated once
    assert second.access_token != first.access_token and second.open_id == "1234567890"


def test_token_close_to_expiry_is_refreshed_before_use(cj_simulator):
    client = get_client()
    client.list_categories()
    pair = client.tokens.load()
    soon = datetime.now(UTC) + timedelta(hours=1)
    client.tokens.save(TokenPair(**{**pair.__dict__, "access_token_expires_at": soon}))

    client.list_categories()

    stats = cj_simulator.stats()
    assert (stats["get_access_token"], stats["refresh_access_token"]) == (1, 1)
    assert stats["calls"]["product/getCategory"] == 2
    assert client.tokens.load().access_token_expires_at > datetime.now(UTC) + timedelta(days=14)


def test_invalid_refresh_token_falls_back_to_login_once_per_5_minutes(cj_simulator):
    client = get_client()
    client.list_categories()
    pair = client.tokens.load()
    client.tokens.save(
        TokenPair(**{**pair.__dict__, "refresh_token": "0" * 32, "access_token_expires_at": datetime.now(UTC)})
    )

    # The first login was less than 5 minutes ago: the client refuses to call getAccessToken again.
    with pytest.raises(CJRateLimitedError) as raised:
        client.list_categories()

    assert raised.value.endpoint == "authentication/getAccessToken" and 290 <= raised.value.retry_after <= 300
    assert cj_simulator.stats()["get_access_token"] == 1
    assert cj_simulator.calls("authentication/refreshAccessToken") == 1


def test_a_refresh_whose_answer_was_lost_leaves_the_refresh_token_usable(cj_simulator, settings):
    # CJ returns the cached pair for 24 h (CONTRACT 2.2), so the refresh token we hold stays valid
    # even when CJ refreshed and its answer never reached us.
    settings.CJ_READ_TIMEOUT = 0.3
    client = get_client()
    client.list_categories()
    cj_simulator.expire_tokens()
    cj_simulator.fault("timeout", endpoint="authentication/refreshAccessToken", latency_ms=1000, count=1)

    with pytest.raises(CJTransientError):
        client.list_categories()
    client.list_categories()

    stats = cj_simulator.stats()
    assert (stats["get_access_token"], stats["refresh_access_token"]) == (1, 2)


def test_bad_api_key_is_an_auth_error(cj_simulator, settings):
    settings.CJ_API_KEY = "not-the-key"

    with pytest.raises(CJAuthError) as raised:
        get_client().list_categories()

    assert raised.value.code == 1600005
    assert cj_simulator.calls("product/getCategory") == 0


def test_open_id_comes_from_the_token_then_settings(cj_simulator, settings):
    settings.CJ_OPEN_ID = "42"
    assert get_client().open_id == "42"

    get_client().list_categories()

    assert get_client().open_id == "1234567890"


def test_budget_reserve_is_kept_for_quotes_and_orders(cj_simulator, settings):
    settings.CJ_DAILY_POINTS = 5_055
    settings.CJ_BUDGET_RESERVE_POINTS = 5_000
    settings.CJ_POINTS_GIVE_UP_MARGIN = 0
    client = get_client()

    client.list_products(size=5)  # 50 points: 5_005 left
    with pytest.raises(CJQuotaExceededError) as refused_sync:
        client.get_product(pid=PID)  # 10 more points would dip into the 5_000 reserve
    with pytest.raises(CJQuotaExceededError) as refused_stock:
        client.get_stock_by_vid(vid=VID)  # stock stops at the reserve too
    options = client.calculate_freight(
        from_country_code="CN", to_country_code="US", lines=[OrderLine(vid=VID, quantity=1)]
    )  # quotes may spend the reserve
    created = client.create_order(order=order_request("T-5"))  # costs nothing

    status = client.budget.status()
    assert (refused_sync.value.endpoint, refused_stock.value.endpoint) == ("product/query", "product/stock/queryByVid")
    assert (len(options) > 0, created.order_number) == (True, "T-5")
    assert (status.points_used, status.calls_used) == (60, 4)  # listV2 50 + freight 10; login, list, freight, order
    assert status.points_by_purpose == {"orders": 0, "quotes": 10, "stock": 0, "sync": 50, "discovery": 0}
    assert cj_simulator.calls("product/query") == 0
    assert cj_simulator.calls("product/stock/queryByVid") == 0


def test_logs_never_contain_tokens_or_the_key(cj_simulator, json_log_file):
    client = get_client()
    client.list_categories()
    cj_simulator.expire_tokens()
    client.list_categories()
    with pytest.raises(CJNotFoundError):
        client.get_product(pid="1")

    lines = json_log_file()
    text = json.dumps(lines)
    pair = client.tokens.load()
    calls = [line for line in lines if line["logger"] == "integration.cj" and line["message"] == "cj.call"]
    assert [(line["endpoint"], line["outcome"]) for line in calls] == [
        ("authentication/getAccessToken", "ok"),
        ("product/getCategory", "ok"),
        ("product/getCategory", "CJAuthError"),
        ("authentication/refreshAccessToken", "ok"),
        ("product/getCategory", "ok"),
        ("product/query", "CJNotFoundError"),
    ]
    assert all(
        {"endpoint", "method", "http_status", "cj_code", "request_id", "duration_ms", "attempt", "limiter_wait_ms"}
        <= set(line)
        for line in calls
    )
    assert pair.access_token not in text and pair.refresh_token not in text
    assert settings.CJ_API_KEY not in text


def test_client_state_lives_in_the_test_redis(cj_simulator):
    get_client().list_categories()

    keys = sorted(key.decode().split(":", 2)[2] for key in redis.Redis.from_url(settings.REDIS_URL).keys("cj:*"))

    assert keys[:2] == [f"budget:{datetime.now(UTC):%Y-%m-%d}", "limiter"]
    assert "token:pair" in keys and "token:login-guard" in keys


def test_budget_is_exported_as_metrics_and_in_health(cj_simulator, settings, client):
    settings.METRICS_TOKEN = "metrics-test-token"
    get_client().list_products(size=5)

    metrics = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-test-token").content.decode()
    health = client.get("/health").json()

    assert 'cj_budget_used{kind="points"} 50.0' in metrics
    assert 'cj_budget_remaining{kind="calls"} 99998.0' in metrics  # login + listV2
    assert health["components"]["cj"]["budget"] == {
        "day": datetime.now(UTC).strftime("%Y-%m-%d"),
        "calls_remaining": 99_998,
        "points_remaining": 49_950,
        "calls_used": 2,
        "points_used": 50,
    }
