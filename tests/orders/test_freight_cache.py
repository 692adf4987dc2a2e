"""Quotes cached per route and weight class (repeated quotes cost no points), and orders accepted
with the cached quote when CJ says the day's points are gone."""

from decimal import Decimal

import pytest
from django.core.cache import caches
from django.utils import timezone

from catalog.models import Product
from config.queues import CREATE_ORDER
from integrations.cj.client import get_client
from integrations.cj.errors import CJQuotaExceededError
from orders.errors import ShippingUnavailable
from orders.freight import freight_quote, weight_class
from orders.models import Order

pytestmark = pytest.mark.django_db

ADDRESS = {"line1": "1 Main St", "city": "Austin", "province": "TX", "zip": "78701", "country_code": "US"}


def _order_body(variant, quantity=1):
    return {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "shipping_address": dict(ADDRESS),
        "items": [{"variant_id": variant.pk, "quantity": quantity}],
    }


@pytest.mark.parametrize(
    ("grams", "bracket"),
    [
        (Decimal("1"), 50),
        (Decimal("50"), 50),
        (Decimal("50.01"), 100),
        (Decimal("2000"), 2000),
        (Decimal("2001"), 2500),
    ],
)
def test_weight_classes(grams, bracket):
    assert weight_class(grams) == bracket


def test_carts_of_one_route_and_weight_class_share_one_quote(sim_variants, cj_simulator):
    first, second = sim_variants[:2]
    first.weight_grams, second.weight_grams = Decimal("120"), Decimal("130")  # both in the 150 g class
    heavy = sim_variants[0].__class__.objects.get(pk=first.pk)

    one = freight_quote(country_code="US", zip="78701", lines=[(first, 1)])
    other = freight_quote(country_code="US", zip="10001", lines=[(second, 1)])  # another zip, same route
    two_units = freight_quote(country_code="US", zip="78701", lines=[(heavy, 2)])  # 240 g: another class
    to_germany = freight_quote(country_code="DE", zip="10115", lines=[(first, 1)])

    assert other == one
    assert two_units != one and to_germany != one
    assert cj_simulator.calls("logistic/freightCalculate") == 3
    assert get_client().budget.status().points_by_purpose["quotes"] == 30


def test_a_quote_marks_its_product_in_demand(sim_variants, cj_simulator):
    freight_quote(country_code="US", zip="78701", lines=[(sim_variants[0], 1)])

    demand_at = Product.objects.get(pk=sim_variants[0].product_id).demand_at
    assert demand_at is not None and timezone.now() - demand_at < timezone.timedelta(seconds=30)


@pytest.mark.django_db(transaction=True)
def test_when_cj_s_points_are_gone_orders_are_accepted_with_the_cached_quote_and_forwarded(
    api_client, sim_variants, cj_simulator, settings, run_worker
):
    variant = sim_variants[0]
    quote = {"country_code": "US", "zip": "78701", "items": [{"variant_id": variant.pk, "quantity": 1}]}
    quoted = api_client.post("/api/shipping/quote", quote, format="json").json()
    cj_simulator.set_points(daily_points=1)  # CJ's day is over: nothing that costs points passes
    with pytest.raises(CJQuotaExceededError):
        get_client().get_stock_by_pid(pid=cj_simulator.info()["sample_pid"])
    stand_in_key = f"quote:route:CN:US:{weight_class(variant.weight_grams)}:fallback"
    stand_in = caches["freight"].get(stand_in_key)
    caches["freight"].clear()  # the cart's and the route's fresh quotes are gone: only the stand-in is left
    caches["freight"].set(stand_in_key, stand_in)

    # a storefront that took the payment itself: the order is paid and goes to CJ at once
    settings.PAYMENTS_PROVIDER, settings.STOREFRONT_API_TOKEN = "external", "storefront-token-for-tests"
    api_client.credentials(HTTP_AUTHORIZATION="Bearer storefront-token-for-tests")
    body = {**_order_body(variant), "payment_reference": "pay-points-001"}
    answer = api_client.post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="points-001")
    worked = run_worker(CREATE_ORDER)

    assert answer.status_code == 202, answer.content
    order = Order.objects.get(number=answer.json()["number"])
    assert order.shipping_total == Decimal(quoted["options"][0]["price"])
    assert worked == {"finished": 2, "failed": 0}  # forwarding, then paying at CJ (no points either)
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED  # CJ charges no points for orders
    assert cj_simulator.calls("logistic/freightCalculate") == 1


def test_when_cj_s_points_are_gone_an_unquoted_class_is_503_not_500(sim_variants, cj_simulator):
    cj_simulator.set_points(daily_points=1)
    with pytest.raises(CJQuotaExceededError):
        get_client().get_stock_by_pid(pid=cj_simulator.info()["sample_pid"])

    with pytest.raises(ShippingUnavailable):
        freight_quote(country_code="US", zip="78701", lines=[(sim_variants[0], 1)])
