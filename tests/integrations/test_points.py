"""CJ's points economy over real HTTP against the simulator: every endpoint's cost counted alike by
the client and the simulator (one table), CJ's answer when the points are gone, what the client
does afterwards, the order-volume bonus, and the day's plan per purpose."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import redis
import requests

from integrations.cj.client import get_client
from integrations.cj.errors import CJNotFoundError, CJQuotaExceededError
from integrations.cj.points import POINT_COSTS, CJPurpose, cj_purpose, next_reset
from integrations.cj.points_plan import plan_summary, points_allowance
from integrations.cj.simulator.api.routes import ROUTES
from integrations.cj.types import OrderLine
from tests.integrations.factories import PID, VID, order_request

_numbers = itertools.count()


def _freight(client):
    return client.calculate_freight(
        from_country_code="CN", to_country_code="US", lines=[OrderLine(vid=VID, quantity=1)]
    )


def test_the_simulator_charges_from_the_client_s_table():
    charged = {endpoint: points for endpoint, (_method, _handler, _token, points) in ROUTES.items() if points}

    assert charged == {endpoint: POINT_COSTS[endpoint] for endpoint in ROUTES if endpoint in POINT_COSTS}
    assert charged == {
        "product/listV2": 50,
        "product/query": 10,
        "product/variant/query": 10,
        "product/variant/queryByVid": 10,
        "product/stock/queryByVid": 10,
        "product/stock/getInventoryByPid": 10,
        "logistic/freightCalculate": 10,
    }


@pytest.mark.parametrize(
    ("call", "endpoint", "points"),
    [
        (lambda client: client.list_products(size=5), "product/listV2", 50),
        (lambda client: client.get_product(pid=PID), "product/query", 10),
        (lambda client: client.list_variants(pid=PID), "product/variant/query", 10),
        (lambda client: client.get_variant(vid=VID), "product/variant/queryByVid", 10),
        (lambda client: client.get_stock_by_vid(vid=VID), "product/stock/queryByVid", 10),
        (lambda client: client.get_stock_by_pid(pid=PID), "product/stock/getInventoryByPid", 10),
        (_freight, "logistic/freightCalculate", 10),
        (lambda client: client.list_categories(), "product/getCategory", 0),
        (
            lambda client: client.create_order(order=order_request(f"T-P1-{next(_numbers)}")),
            "shopping/order/createOrderV2",
            0,
        ),
        (lambda client: client.list_orders(), "shopping/order/list", 0),
        (lambda client: client.track(track_numbers=["none"]), "logistic/trackInfo", 0),
    ],
)
def test_each_endpoint_costs_the_same_on_both_sides(cj_simulator, call, endpoint, points):
    client = get_client()
    client.authenticate()  # the login costs nothing; leave it out of the figures

    call(client)
    call(client)

    status = client.budget.status()
    assert status.points_used == 2 * points
    assert cj_simulator.stats()["points"]["used"] == 2 * points
    assert cj_simulator.calls(endpoint) == 2


def test_a_failed_call_is_charged_by_both_sides(cj_simulator):
    client = get_client()
    with pytest.raises(CJNotFoundError):
        client.get_product(pid="1")

    assert (client.budget.status().points_used, cj_simulator.stats()["points"]["used"]) == (10, 10)


def test_cj_answers_exhausted_points_as_its_points_page_says(cj_simulator):
    cj_simulator.reset(daily_points=60)
    client = get_client()
    client.list_products(size=5)  # 50 of 60
    token = client.tokens.load().access_token

    answer = requests.get(
        f"{cj_simulator.base_url}product/listV2", params={"page": 1, "size": 5}, headers={"CJ-Access-Token": token}
    )

    body = answer.json()
    assert answer.status_code == 429
    assert (body["code"], body["result"], body["data"]) == (429, False, None)
    assert body["message"] == "Insufficient API points. Used today: 50, Remaining: 10, Required: 50"
    assert body["pointsInfo"] == {
        "totalPoints": 60,
        "basePoints": 60,
        "orderConversionPoints": 0,
        "usedToday": 50,
        "remaining": 10,
        "required": 50,
        "resetTime": next_reset().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert cj_simulator.stats()["points"]["used"] == 50  # a refused call costs nothing


def test_after_cj_says_the_points_are_gone_the_client_spends_none_until_the_reset(cj_simulator, settings):
    cj_simulator.reset(daily_points=60)
    settings.CJ_DAILY_POINTS = 50_000  # our count believes there is plenty: CJ's answer wins
    client = get_client()
    client.list_products(size=5)

    with pytest.raises(CJQuotaExceededError) as from_cj:
        client.list_products(size=5)
    calls_at_cj = cj_simulator.stats()["total_calls"]
    with pytest.raises(CJQuotaExceededError) as refused_here:
        _freight(client)  # costs points: not sent at all
    created = client.create_order(order=order_request("T-P2"))  # costs nothing: still passes
    detail = client.get_order(order_id="T-P2")

    error = from_cj.value
    assert (error.code, error.points_exhausted) == (429, True)
    assert (error.points_used, error.points_remaining, error.points_required) == (50, 10, 50)
    assert error.reset_at == next_reset()
    assert refused_here.value.reset_at == next_reset()
    assert refused_here.value.endpoint == "logistic/freightCalculate"
    assert cj_simulator.stats()["total_calls"] == calls_at_cj + 2  # the order and its lookup only
    assert cj_simulator.calls("logistic/freightCalculate") == 0
    assert (created.order_number, detail.order_number) == ("T-P2", "T-P2")
    assert client.budget.status().points_remaining == 0
    assert client.budget.status().exhausted_until == next_reset()
    ttl = redis.Redis.from_url(settings.REDIS_URL).ttl(f"{client.config.account_key}:budget:exhausted")
    assert 0 < ttl <= (next_reset() - datetime.now(UTC)).total_seconds() + 1


def test_the_exhaustion_ends_at_the_reset(cj_simulator):
    client = get_client()
    client.budget.mark_exhausted(reset_at=datetime.now(UTC) + timedelta(seconds=30))
    with pytest.raises(CJQuotaExceededError):
        client.get_product(pid=PID)

    client.budget.mark_exhausted(reset_at=datetime.now(UTC) - timedelta(seconds=1))

    assert client.get_product(pid=PID).pid == PID


def test_the_order_volume_bonus_adds_100_points_per_usd(cj_simulator, settings):
    settings.CJ_POINTS_ORDER_VOLUME_USD = 12.5
    cj_simulator.reset(daily_points=50_000, order_volume_usd=12.5)

    client = get_client()
    client.list_categories()

    assert client.budget.points_limit == 51_250
    assert cj_simulator.stats()["points"] == {"used": 0, "allowance": 51_250}


def test_the_plan_gives_up_discovery_then_sync_then_stock_and_keeps_the_reserve(cj_simulator, settings):
    settings.CJ_DAILY_POINTS = 20_000
    settings.CJ_BUDGET_RESERVE_POINTS = 5_000
    settings.CJ_POINTS_GIVE_UP_MARGIN = 2_000
    settings.CJ_POINTS_DISCOVERY_DAILY = 40
    client = get_client()
    with cj_purpose(CJPurpose.DISCOVERY):
        client.get_product(pid=PID)
        client.get_product(pid=PID)
        client.get_product(pid=PID)
        client.get_product(pid=PID)
        with pytest.raises(CJQuotaExceededError):
            client.get_product(pid=PID)  # discovery's daily cap: 40

    allowances = {purpose.value: points_allowance(purpose) for purpose in CJPurpose}
    summary = plan_summary()

    assert allowances == {"orders": 19_960, "quotes": 19_960, "stock": 14_960, "sync": 12_960, "discovery": 0}
    assert summary.used_by_purpose == {"orders": 0, "quotes": 0, "stock": 0, "sync": 0, "discovery": 40}
    assert summary.left_by_purpose == allowances
    assert (summary.allowance, summary.used, summary.left, summary.reserve) == (20_000, 40, 19_960, 5_000)
    assert cj_simulator.calls("product/query") == 4


def test_a_projection_below_the_reserve_raises_the_alert(cj_simulator, settings):
    settings.CJ_DAILY_POINTS = 6_000
    settings.CJ_BUDGET_RESERVE_POINTS = 5_000
    settings.CJ_POINTS_GIVE_UP_MARGIN = 0
    client = get_client()
    client.list_products(size=5)
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)

    summary = plan_summary(now=noon)

    # 50 points in 12 hours: 100 by midnight, 5_900 left, above the reserve.
    assert (summary.projected_balance, summary.alert) == (5_900, False)
    for _ in range(10):
        client.budget.record("product/listV2", CJPurpose.SYNC)
    later = plan_summary(now=noon)
    # 550 points in 12 hours: 1_100 by midnight, 4_900 left, below the reserve.
    assert (later.projected_balance, later.alert) == (4_900, True)


@pytest.mark.django_db
def test_points_per_purpose_on_metrics_health_and_the_dashboard(cj_simulator, settings, client, admin_client):
    settings.METRICS_TOKEN = "metrics-test-token"
    api = get_client()
    _freight(api)
    api.get_stock_by_pid(pid=PID)

    metrics = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-test-token").content.decode()
    health = client.get("/health").json()["components"]["cj_points"]
    dashboard = admin_client.get("/admin/").content.decode()

    assert 'cj_points_used{purpose="quotes"} 10.0' in metrics
    assert 'cj_points_used{purpose="stock"} 10.0' in metrics
    assert 'cj_points_left{purpose="stock"} 44980.0' in metrics  # 49_980 left, 5_000 reserve
    assert 'cj_points_left{purpose="discovery"} 5000.0' in metrics  # its own daily cap
    assert "cj_points_allowance 50000.0" in metrics
    assert "cj_points_alert 0.0" in metrics
    assert health["status"] == "ok"
    assert (health["used"], health["left"], health["reserve"], health["alert"]) == (20, 49_980, 5_000, False)
    assert health["used_by_purpose"] == {"orders": 0, "quotes": 10, "stock": 10, "sync": 0, "discovery": 0}
    assert "CJ points today: 20 used, 49980 left of 50000" in dashboard


@pytest.mark.django_db
def test_health_alerts_when_cj_says_the_points_are_gone(cj_simulator, client):
    get_client().budget.mark_exhausted(reset_at=next_reset(), points_used=50_000)

    body = client.get("/health").json()

    part = body["components"]["cj_points"]
    assert body["status"] == "degraded"
    assert (part["status"], part["alert"], part["left"]) == ("error", True, 0)
    assert part["error"] == f"CJ refuses calls that cost points until {next_reset().isoformat()}"
