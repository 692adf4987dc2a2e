"""Catching up after CJ paused its pushes: an incremental catalog sync and a CJ status check of
every open order, enqueued by job path under the orders' job ids."""

import pytest
from django.core.management import call_command

from config.queues import CREATE_ORDER, SYNC_PRODUCTS, get_queue
from orders.models import Order
from tests.orders.factories import OrderFactory
from webhooks.services import webhooks_reconcile

pytestmark = pytest.mark.django_db


def test_reconcile_enqueues_a_sync_and_a_status_check_per_open_order():
    # given
    placed = OrderFactory(status=Order.Status.PLACED, cj_order_id="CJ-P")
    shipped = OrderFactory(status=Order.Status.SHIPPED, cj_order_id="CJ-S")
    OrderFactory(status=Order.Status.DELIVERED, cj_order_id="CJ-D")
    OrderFactory(status=Order.Status.PAID)

    # when
    summary = webhooks_reconcile()

    # then
    sync_jobs = get_queue(SYNC_PRODUCTS).jobs
    assert summary == {"sync_job_id": sync_jobs[0].id, "order_status_checks": 2}
    assert [(job.func_name, job.args) for job in sync_jobs] == [
        ("catalog.jobs.products_sync_job", ("incremental", "command", None))
    ]
    assert [(job.id, job.func_name, job.args) for job in get_queue(CREATE_ORDER).jobs] == [
        (f"order-status-{placed.pk}", "orders.jobs.order_sync_cj_status_job", (placed.pk,)),
        (f"order-status-{shipped.pk}", "orders.jobs.order_sync_cj_status_job", (shipped.pk,)),
    ]


def test_reconcile_command_prints_what_it_enqueued(capsys):
    OrderFactory(status=Order.Status.PLACED, cj_order_id="CJ-P")

    call_command("cj_webhooks", "reconcile")

    sync_job = get_queue(SYNC_PRODUCTS).jobs[0]
    assert capsys.readouterr().out == (f"enqueued incremental sync (job {sync_job.id}) and 1 order status check(s)\n")
