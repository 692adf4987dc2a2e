"""Forwarding to CJ on a real burst worker against the simulator: exactly once, typed failures."""

import pytest
from django.utils import timezone

from catalog.models import Variant
from catalog.stock import variant_stock_set
from config.queues import CREATE_ORDER, enqueue
from integrations.cj.client import get_client
from orders.forwarding import _order_request, order_forward_to_cj
from orders.jobs import order_forward_to_cj_job
from orders.models import Order
from tests.orders.conftest import local_copies_of_sample_product, place_order
from tests.orders.factories import OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_order_is_placed_at_cj_once_with_our_number(sim_variants, cj_simulator, run_worker):
    order = place_order(sim_variants[0], quantity=2)

    assert run_worker(CREATE_ORDER) == {"finished": 1, "failed": 0}

    order.refresh_from_db()
    cj_orders = cj_simulator.orders()
    assert [(o["orderNum"], o["orderId"]) for o in cj_orders] == [(order.number, order.cj_order_id)]
    assert order.status == "placed"
    assert list(order.events.values_list("from_status", "to_status")) == [
        ("", "pending"),
        ("pending", "forwarding"),
        ("forwarding", "placed"),
    ]


def test_a_placed_order_keeps_its_units_until_a_cj_figure_taken_after_it_counts_them(
    sim_variants, cj_simulator, run_worker
):
    variant = sim_variants[0]
    order = place_order(variant, quantity=2)
    before = timezone.now()

    assert run_worker(CREATE_ORDER) == {"finished": 1, "failed": 0}

    order.refresh_from_db()
    variant.refresh_from_db()
    # dated when we sent createOrderV2; CJ's figure we hold (10, taken before) does not count it
    assert before <= order.placed_at <= order.status_changed_at
    assert (variant.stock, variant.cj_stock) == (8, 10)
    # CJ's own figure, read now, after CJ took the order: both sides agree
    cj_figure = sum(row.total for row in get_client().get_stock_by_pid(pid=variant.product.cj_pid)[variant.cj_vid])
    variant_stock_set(cj_vid=variant.cj_vid, stock=cj_figure)
    variant.refresh_from_db()
    assert (variant.stock, variant.cj_stock) == (cj_figure, cj_figure)


def test_timeout_on_creation_is_retried_without_a_second_cj_order(sim_variants, cj_simulator, run_worker, settings):
    settings.CJ_READ_TIMEOUT = 0.5
    order = place_order(sim_variants[0])
    # CJ creates the order but the answer never arrives in time.
    cj_simulator.fault("timeout", endpoint="shopping/order/createOrderV2", count=1, latency_ms=1500)

    run_worker(CREATE_ORDER)

    order.refresh_from_db()
    assert order.status == "placed"
    assert [o["orderNum"] for o in cj_simulator.orders()] == [order.number]
    assert cj_simulator.calls("shopping/order/createOrderV2") == 1
    assert "Found at CJ" in order.events.get(to_status="placed").message


@pytest.mark.parametrize("kind", ["http_5xx", "throttle", "busy", "expired_token"])
def test_transient_cj_faults_still_place_each_order_exactly_once(kind, sim_variants, cj_simulator, run_worker):
    orders = [place_order(sim_variants[i % len(sim_variants)], email=f"b{i}@example.com") for i in range(4)]
    cj_simulator.fault(kind, rate=0.3)

    run_worker(CREATE_ORDER)
    cj_simulator.clear_faults()
    run_worker(CREATE_ORDER)  # anything that exhausted its retries is requeued by nobody: must be none

    numbers = sorted(o["orderNum"] for o in cj_simulator.orders())
    assert numbers == sorted(order.number for order in orders)
    assert set(Order.objects.values_list("status", flat=True)) == {"placed"}


def test_a_concurrent_attempt_that_won_at_cj_is_adopted_not_failed(sim_variants, cj_simulator, monkeypatch):
    # given: between our lookup and our createOrderV2, another attempt creates the order at CJ
    order = place_order(sim_variants[0])
    client = get_client()
    lookup = client.get_order
    lookups = []

    def lookup_while_another_attempt_creates(*, order_id):
        lookups.append(order_id)
        try:
            return lookup(order_id=order_id)
        finally:
            if len(lookups) == 1:
                client.create_order(order=_order_request(Order.objects.get(pk=order.pk)))

    monkeypatch.setattr(client, "get_order", lookup_while_another_attempt_creates)

    # when: our createOrderV2 gets CJ's duplicate-number refusal
    order_forward_to_cj(order_id=order.pk)

    # then: the order is the one CJ holds, placed, never failed
    order.refresh_from_db()
    assert (order.status, order.failure_reason) == ("placed", "")
    assert [(o["orderNum"], o["orderId"]) for o in cj_simulator.orders()] == [(order.number, order.cj_order_id)]
    assert cj_simulator.calls("shopping/order/createOrderV2") == 2
    assert lookups == [order.number, order.number]
    assert order.events.get(to_status="placed").message == "Found at CJ (duplicate number)."


def _sell_out_at_cj(sim, variant):
    for warehouse in get_client().get_stock_by_vid(vid=variant.cj_vid):
        sim.set_stock(variant.cj_vid, 0, country_code=warehouse.country_code)


def _failing_order(variant, **fields):
    order = OrderFactory(items=[], status=Order.Status.PENDING, **fields)
    OrderItemFactory(order=order, variant=variant, quantity=1)
    Variant.objects.filter(pk=variant.pk).update(stock=9)  # as if reserved
    enqueue(CREATE_ORDER, order_forward_to_cj_job, order.pk)
    return order


@pytest.mark.parametrize(
    ("arrange", "reason"),
    [
        (lambda sim, variant, order: sim.remove_variant(variant.cj_vid), "variant_unavailable"),
        (lambda sim, variant, order: _sell_out_at_cj(sim, variant), "out_of_stock"),
        (
            lambda sim, variant, order: Order.objects.filter(pk=order.pk).update(logistic_name="Teleport"),
            "logistic_unavailable",
        ),
        (
            lambda sim, variant, order: Order.objects.filter(pk=order.pk).update(shipping_country_code="ZZ"),
            "address_invalid",
        ),
    ],
)
def test_permanent_failures_are_typed_and_release_stock(
    arrange, reason, sim_variants, cj_simulator, run_worker, settings
):
    settings.CJ_PAY_TYPE = 2  # balance payment, so the balance check applies
    variant = sim_variants[0]
    order = _failing_order(variant, logistic_name="CJPacket Ordinary")
    arrange(cj_simulator, variant, order)

    run_worker(CREATE_ORDER)

    order.refresh_from_db()
    assert (order.status, order.failure_reason) == ("failed", reason), order.failure_message
    assert order.failure_message
    assert order.last_cj_response["code"]
    assert Variant.objects.get(pk=variant.pk).stock == 10
    assert cj_simulator.orders() == []


def test_insufficient_balance_fails_the_order(cj_simulator, run_worker, settings):
    settings.CJ_PAY_TYPE = 2  # balance payment
    cj_simulator.reset(balance="0.00")
    variant = local_copies_of_sample_product(cj_simulator)[0]
    order = _failing_order(variant, logistic_name="CJPacket Ordinary")

    run_worker(CREATE_ORDER)

    order.refresh_from_db()
    assert (order.status, order.failure_reason) == ("failed", "balance_insufficient")
    assert order.last_cj_response["code"] == 1604000
    assert Variant.objects.get(pk=variant.pk).stock == 10


def test_each_cj_retry_is_on_the_order_timeline(sim_variants, cj_simulator, run_worker):
    # given: CJ answers createOrderV2 with HTTP 503 twice, then takes the order
    order = place_order(sim_variants[0])
    cj_simulator.fault("http_5xx", endpoint="shopping/order/createOrderV2", count=2, status=503)

    # when
    assert run_worker(CREATE_ORDER) == {"finished": 1, "failed": 0}

    # then: staff see both retries, with CJ's answer, between "forwarding" and "placed"
    order.refresh_from_db()
    assert order.status == "placed"
    assert cj_simulator.calls("shopping/order/createOrderV2") == 3
    events = list(order.events.values_list("from_status", "to_status", "message"))
    assert [(e[0], e[1]) for e in events] == [
        ("", "pending"),
        ("pending", "forwarding"),
        ("", ""),
        ("", ""),
        ("forwarding", "placed"),
    ]
    notes = list(order.events.filter(to_status="").order_by("id"))
    assert [note.message for note in notes] == [
        f"CJ did not take the order (attempt {n}): HTTP 503, not a JSON envelope on shopping/order/createOrderV2. "
        "Next try right away."
        for n in (1, 2)
    ]
    assert [(note.data["attempt"], note.data["retry_in_seconds"], note.data["cj_code"]) for note in notes] == [
        (1, 0, None),
        (2, 0, None),
    ]


def test_the_last_retry_says_the_sweeper_takes_over(sim_variants, cj_simulator, run_worker, settings):
    settings.RQ_RETRY_INTERVALS = [0]
    order = place_order(sim_variants[0])
    cj_simulator.fault("http_5xx", endpoint="shopping/order/createOrderV2", status=502)

    assert run_worker(CREATE_ORDER) == {"finished": 0, "failed": 1}

    order.refresh_from_db()
    assert order.status == "forwarding"
    assert list(order.events.filter(to_status="").order_by("id").values_list("message", flat=True)) == [
        "CJ did not take the order (attempt 1): HTTP 502, not a JSON envelope on shopping/order/createOrderV2. "
        "Next try right away.",
        "CJ did not take the order (attempt 2): HTTP 502, not a JSON envelope on shopping/order/createOrderV2. "
        "No retry left: the sweeper forwards it again once it has been waiting 5 min.",
    ]


def test_retry_notes_tell_rqs_next_delay(db):
    # RQ's own Job, as the worker hands it over: attempt and delay read as Job.retry decides them.
    from rq import Retry

    from config.queues import get_queue
    from orders.jobs import _attempt_and_next_try

    job = get_queue(CREATE_ORDER).enqueue("orders.jobs.order_forward_to_cj_job", 1, retry=Retry(3, [10, 60, 300]))
    seen = []
    for _ in range(4):
        seen.append(_attempt_and_next_try(job))
        if job.retries_left:
            job.retries_left -= 1

    assert seen == [(1, 10), (2, 60), (3, 300), (4, None)]


def test_a_throttled_creation_is_on_the_timeline_with_cjs_code(sim_variants, cj_simulator, run_worker):
    order = place_order(sim_variants[0])
    cj_simulator.fault("throttle", endpoint="shopping/order/createOrderV2", count=1)

    assert run_worker(CREATE_ORDER) == {"finished": 1, "failed": 0}

    order.refresh_from_db()
    (note,) = order.events.filter(to_status="")
    assert order.status == "placed"
    assert (note.data["attempt"], note.data["error"], note.data["cj_code"]) == (1, "CJRateLimitedError", 1600200)
    assert note.message.startswith("CJ did not take the order (attempt 1): ")
    assert note.message.endswith(" (code 1600200) on shopping/order/createOrderV2. Next try right away.")
