"""The orders sweeper on a real burst worker against the simulator: lost forwarding recovered,
quiet orders checked at CJ, and the reconciliation that checks every open order."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.queues import CREATE_ORDER, get_queue
from orders.models import Order
from orders.sweeps import orders_reconcile, orders_sweep
from tests.orders.conftest import place_order
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_sweeper_recovers_an_order_whose_enqueue_was_lost(sim_variants, cj_simulator, run_worker):
    order = place_order(sim_variants[0])
    get_queue(CREATE_ORDER).empty()  # the enqueue was lost (Redis was down at commit)
    Order.objects.filter(pk=order.pk).update(status_changed_at=timezone.now() - timedelta(minutes=10))

    assert orders_sweep() == {
        "reforwarded": 1,
        "jobs_lost": 1,
        "status_checks": 0,
        "expiring": 0,
        "payment_checks": 0,
        "refunds": 0,
    }
    run_worker(CREATE_ORDER)

    order.refresh_from_db()
    assert order.status == "placed"
    assert [o["orderNum"] for o in cj_simulator.orders()] == [order.number]


def test_sweeper_asks_cj_about_quiet_orders(sim_variants, cj_simulator, run_worker):
    order = place_order(sim_variants[0])
    run_worker(CREATE_ORDER)
    order.refresh_from_db()
    cj_simulator.advance_order(order.cj_order_id, "SHIPPED")  # a webhook that never arrived
    Order.objects.filter(pk=order.pk).update(status_changed_at=timezone.now() - timedelta(days=1))

    assert orders_sweep() == {
        "reforwarded": 0,
        "jobs_lost": 0,
        "status_checks": 1,
        "expiring": 0,
        "payment_checks": 0,
        "refunds": 0,
    }
    run_worker(CREATE_ORDER)

    order.refresh_from_db()
    assert order.status == "shipped"
    assert order.tracking_number
    assert orders_sweep() == {
        "reforwarded": 0,
        "jobs_lost": 0,
        "status_checks": 0,
        "expiring": 0,
        "payment_checks": 0,
        "refunds": 0,
    }


def test_sweeper_enqueues_each_order_by_job_path_under_its_job_id():
    # given: one order stuck in forwarding, one placed order quiet for a day, one fresh placed order
    long_ago = timezone.now() - timedelta(days=1)
    stuck = OrderFactory(status=Order.Status.FORWARDING)
    quiet = OrderFactory(status=Order.Status.PLACED, cj_order_id="CJ-Q")
    OrderFactory(status=Order.Status.PLACED, cj_order_id="CJ-F")
    Order.objects.filter(pk__in=(stuck.pk, quiet.pk)).update(status_changed_at=long_ago)

    # when
    counts = orders_sweep()

    # then
    assert counts == {
        "reforwarded": 1,
        "jobs_lost": 1,
        "status_checks": 1,
        "expiring": 0,
        "payment_checks": 0,
        "refunds": 0,
    }
    queue = get_queue(CREATE_ORDER)
    assert sorted(queue.job_ids) == sorted([f"order-forward-{stuck.pk}", f"order-status-{quiet.pk}"])
    assert {job.id: (job.func_name, job.args) for job in queue.jobs} == {
        f"order-forward-{stuck.pk}": ("orders.jobs.order_forward_to_cj_job", (stuck.pk,)),
        f"order-status-{quiet.pk}": ("orders.jobs.order_sync_cj_status_job", (quiet.pk,)),
    }


def test_reconcile_enqueues_a_status_check_of_every_open_order():
    placed = OrderFactory(status=Order.Status.PLACED, cj_order_id="CJ-P")
    shipped = OrderFactory(status=Order.Status.SHIPPED, cj_order_id="CJ-S")
    for status in (Order.Status.PAID, Order.Status.DELIVERED, Order.Status.FAILED, Order.Status.CANCELLED):
        OrderFactory(status=status)

    assert orders_reconcile() == 2

    queue = get_queue(CREATE_ORDER)
    assert {job.id: (job.func_name, job.args) for job in queue.jobs} == {
        f"order-status-{placed.pk}": ("orders.jobs.order_sync_cj_status_job", (placed.pk,)),
        f"order-status-{shipped.pk}": ("orders.jobs.order_sync_cj_status_job", (shipped.pk,)),
    }
