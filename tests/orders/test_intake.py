"""Order intake as one use case: replays answered before any quote, variants read once, CJ's
quote errors raised as the domain errors the API maps once."""

from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Variant
from orders.errors import (
    IdempotencyKeyMismatch,
    OrderRejected,
    OutOfStock,
    QuoteUnavailable,
    ShippingRefused,
    ShippingUnavailable,
)
from orders.intake import freight_quote_for_lines, order_intake
from orders.models import Order
from orders.services import OrderLineInput, ShippingAddress

pytestmark = pytest.mark.django_db

ADDRESS = ShippingAddress(line1="1 Main St", city="Austin", province="TX", zip="78701", country_code="US")


def _intake(variant: Variant, *, quantity: int = 1, key: str | None = None, body_hash: str = "hash-1", **changes):
    arguments = {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "phone": "",
        "address": ADDRESS,
        "lines": [OrderLineInput(variant_id=variant.pk, quantity=quantity)],
        "logistic_name": "",
        "idempotency_key": key,
        "body_hash": body_hash,
        **changes,
    }
    return order_intake(**arguments)


def test_intake_places_the_cheapest_option_and_reserves_stock(sim_variants, cj_simulator):
    variant = sim_variants[0]
    lines = [OrderLineInput(variant_id=variant.pk, quantity=2)]
    options = freight_quote_for_lines(country_code="US", zip="78701", lines=lines)

    order = _intake(variant, quantity=2).order

    assert (order.status, order.logistic_name, order.shipping_total) == (
        "awaiting_payment",
        options[0].logistic_name,
        options[0].total_price,
    )
    assert order.items_total == Decimal("19.80")
    assert Variant.objects.get(pk=variant.pk).stock == 8
    assert cj_simulator.calls("logistic/freightCalculate") == 1


def test_replay_with_the_same_key_answers_the_first_order_without_a_quote(sim_variants, cj_simulator):
    # given an order accepted with a key, and a freight cache that no longer holds its quote
    first = _intake(sim_variants[0], key="key-intake-1").order
    caches["freight"].clear()
    quotes_before = cj_simulator.calls("logistic/freightCalculate")

    # when the storefront repeats the request
    again = _intake(sim_variants[0], key="key-intake-1").order

    # then the first order is the answer, CJ was not asked for a quote, nothing more was taken
    assert again.pk == first.pk
    assert (quotes_before, cj_simulator.calls("logistic/freightCalculate")) == (1, 1)
    assert Order.objects.count() == 1
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 9


def test_same_key_with_another_body_is_refused_without_a_quote(sim_variants, cj_simulator):
    _intake(sim_variants[0], key="key-intake-2", body_hash="hash-1")
    caches["freight"].clear()

    with pytest.raises(IdempotencyKeyMismatch) as refused:
        _intake(sim_variants[0], quantity=3, key="key-intake-2", body_hash="hash-2")

    assert (refused.value.status, refused.value.code, refused.value.details) == (422, "idempotency_key_mismatch", {})
    assert cj_simulator.calls("logistic/freightCalculate") == 1
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 9


def test_intake_reads_the_variants_once(sim_variants, cj_simulator):
    variant = sim_variants[0]

    with CaptureQueriesContext(connection) as queries:
        _intake(variant)

    # The stock reservation reads `product_id` from catalog_variant too; only the line check joins products.
    variant_reads = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('SELECT "catalog_variant"."id"') and 'JOIN "catalog_product"' in query["sql"]
    ]
    assert len(variant_reads) == 1, variant_reads


def test_unknown_variant_is_refused_before_any_quote(sim_variants, cj_simulator):
    with pytest.raises(OrderRejected) as refused:
        order_intake(
            email="ada@example.com",
            name="Ada",
            phone="",
            address=ADDRESS,
            lines=[OrderLineInput(variant_id=999999, quantity=1)],
            logistic_name="",
            idempotency_key=None,
            body_hash="hash-1",
        )

    assert (refused.value.status, refused.value.code, refused.value.details) == (
        400,
        "validation_error",
        {"items": {"0": ["This variant does not exist."]}},
    )
    assert cj_simulator.calls("logistic/freightCalculate") == 0


def test_not_enough_stock_is_out_of_stock_and_takes_nothing(sim_variants, cj_simulator):
    Variant.objects.filter(pk=sim_variants[0].pk).update(stock=1)

    with pytest.raises(OutOfStock) as refused:
        _intake(sim_variants[0], quantity=2)

    assert (refused.value.status, refused.value.code, refused.value.message, refused.value.details) == (
        409,
        "out_of_stock",
        "Not enough stock for one or more items; see details.",
        {"items": {"0": ["Not enough stock for this quantity."]}},
    )
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 1
    assert Order.objects.count() == 0


def test_logistic_name_not_quoted_is_refused(sim_variants, cj_simulator):
    with pytest.raises(OrderRejected) as refused:
        _intake(sim_variants[0], logistic_name="Teleport Express")

    assert list(refused.value.details) == ["logistic_name"]
    assert refused.value.details["logistic_name"][0].startswith("Not one of the quoted options: ")
    assert Order.objects.count() == 0


def test_cj_refusing_the_destination_is_shipping_refused(sim_variants, cj_simulator):
    lines = [OrderLineInput(variant_id=sim_variants[0].pk, quantity=1)]

    with pytest.raises(ShippingRefused) as refused:
        freight_quote_for_lines(country_code="ZZ", zip="", lines=lines)

    assert isinstance(refused.value, QuoteUnavailable)
    assert (refused.value.status, refused.value.code, refused.value.details) == (
        400,
        "validation_error",
        {"country_code": ["CJ cannot ship there: country code not found: ZZ"]},
    )


def test_cj_not_answering_the_quote_is_shipping_unavailable_and_places_nothing(sim_variants, cj_simulator):
    cj_simulator.fault("http_5xx", endpoint="logistic/freightCalculate", status=502)

    with pytest.raises(ShippingUnavailable) as refused:
        _intake(sim_variants[0])

    assert (refused.value.status, refused.value.code, refused.value.message) == (
        503,
        "service_unavailable",
        "Shipping quotes are unavailable right now; try again shortly.",
    )
    assert Order.objects.count() == 0
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 10
