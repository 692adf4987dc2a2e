"""Recovering lost order work: orders whose forwarding was never enqueued (Redis was down at
commit) and placed orders whose CJ webhooks may have been missed.

Jobs are enqueued by dotted path (this module never imports `orders.jobs`) under one id per order
and kind (`config.queues.job_id`: `order-forward-<pk>`, `order-status-<pk>`), so an order's job
can be found by its id. The jobs are idempotent: a sweep that enqueues an order whose job is
still waiting costs one more harmless run.
"""

import logging

from config.queues import CREATE_ORDER, enqueue, job_id
from orders import selectors

logger = logging.getLogger(__name__)

FORWARD_JOB = "orders.jobs.order_forward_to_cj_job"
FORWARD_JOB_KIND = "order-forward"
STATUS_CHECK_JOB = "orders.jobs.order_sync_cj_status_job"
STATUS_CHECK_JOB_KIND = "order-status"
EXPIRE_JOB = "orders.jobs.order_expire_job"
EXPIRE_JOB_KIND = "order-expire"
PAYMENT_CHECK_JOB = "orders.jobs.order_payment_check_job"
PAYMENT_CHECK_JOB_KIND = "order-payment-check"
REFUND_JOB = "orders.jobs.order_refund_job"
REFUND_JOB_KIND = "order-refund"


def _status_check_enqueue(order_id: int) -> None:
    enqueue(CREATE_ORDER, STATUS_CHECK_JOB, order_id, job_id=job_id(STATUS_CHECK_JOB_KIND, order_id))


def orders_sweep() -> dict[str, int]:
    """Re-enqueue orders stuck in paid/forwarding (their enqueue was lost, e.g. Redis was
    down), enqueue a CJ status check for placed orders that have not moved for a while, the expiry
    of orders unpaid for ORDERS_PAYMENT_TIMEOUT_MINUTES, and one Stripe check of orders unpaid for
    ORDERS_PAYMENT_CHECK_AFTER_SECONDS (a payment webhook that never came), and the refunds owed
    whose enqueue was lost.

    Returns the counts enqueued; raises redis.RedisError when Redis is down."""
    counts = {"reforwarded": 0, "status_checks": 0, "expiring": 0, "payment_checks": 0, "refunds": 0}
    for order_id in selectors.order_ids_refund_due():
        enqueue(CREATE_ORDER, REFUND_JOB, order_id, job_id=job_id(REFUND_JOB_KIND, order_id))
        counts["refunds"] += 1
    for order_id in selectors.order_ids_payment_expired():
        enqueue(CREATE_ORDER, EXPIRE_JOB, order_id, job_id=job_id(EXPIRE_JOB_KIND, order_id))
        counts["expiring"] += 1
    for order_id in selectors.order_ids_payment_check_due():
        enqueue(CREATE_ORDER, PAYMENT_CHECK_JOB, order_id, job_id=job_id(PAYMENT_CHECK_JOB_KIND, order_id))
        counts["payment_checks"] += 1
    for order_id in selectors.order_ids_stuck():
        enqueue(CREATE_ORDER, FORWARD_JOB, order_id, job_id=job_id(FORWARD_JOB_KIND, order_id))
        counts["reforwarded"] += 1
    for order_id in selectors.order_ids_due_status_check():
        _status_check_enqueue(order_id)
        counts["status_checks"] += 1
    logger.info("orders.sweep.done", extra=counts)
    return counts


def orders_reconcile() -> int:
    """Enqueue a CJ status check of every order CJ holds and has not finished (placed or shipped),
    e.g. after CJ paused its webhooks. Returns how many were enqueued; raises redis.RedisError
    when Redis is down."""
    order_ids = selectors.order_ids_open_at_cj()
    for order_id in order_ids:
        _status_check_enqueue(order_id)
    return len(order_ids)
