"""Recovering lost order work: orders whose forwarding was never enqueued (Redis was down at
commit) and placed orders whose CJ webhooks may have been missed.

Jobs are enqueued by dotted path (this module never imports `orders.jobs`) under one id per order
and kind (`config.queues.job_id`: `order-forward-<pk>`, `order-status-<pk>`), so an order's job
can be found by its id. The jobs are idempotent: a sweep that enqueues an order whose job is
still waiting costs one more harmless run.
"""

import logging

from rq.registry import DeferredJobRegistry, FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from config.queues import CREATE_ORDER, enqueue, get_queue, job_id
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


def forward_job_ids_known() -> set[str]:
    """Ids of every `create-order` job Redis still knows about: queued, running, waiting for a
    retry (scheduled), deferred, or dead-lettered (failed; staff or the stuck rule decide)."""
    queue = get_queue(CREATE_ORDER)
    known = set(queue.get_job_ids())
    for registry in (StartedJobRegistry, ScheduledJobRegistry, DeferredJobRegistry, FailedJobRegistry):
        known.update(registry(queue=queue).get_job_ids(cleanup=False))
    return known


def order_ids_job_lost() -> list[int]:
    """Pending/forwarding orders (older than ORDERS_JOB_LOST_AFTER_SECONDS) whose forwarding job is
    nowhere in Redis: a Redis that lost its data (flushed, restarted without its snapshot) lost
    it. Found on the next sweep instead of after ORDERS_STUCK_AFTER_SECONDS."""
    candidates = selectors.order_ids_forwarding_due()
    if not candidates:
        return []
    known = forward_job_ids_known()
    return [order_id for order_id in candidates if job_id(FORWARD_JOB_KIND, order_id) not in known]


def orders_sweep() -> dict[str, int]:
    """Re-enqueue orders whose forwarding job vanished from Redis or that are stuck in
    paid/forwarding (their enqueue was lost, e.g. Redis was down), enqueue a CJ status check for
    placed orders that have not moved for a while, the expiry of orders unpaid for
    ORDERS_PAYMENT_TIMEOUT_MINUTES, one Stripe check of orders unpaid for
    ORDERS_PAYMENT_CHECK_AFTER_SECONDS (a payment webhook that never came), and the refunds owed
    whose enqueue was lost.

    Returns the counts enqueued; raises redis.RedisError when Redis is down."""
    counts = {"reforwarded": 0, "jobs_lost": 0, "status_checks": 0, "expiring": 0, "payment_checks": 0, "refunds": 0}
    for order_id in selectors.order_ids_refund_due():
        enqueue(CREATE_ORDER, REFUND_JOB, order_id, job_id=job_id(REFUND_JOB_KIND, order_id))
        counts["refunds"] += 1
    for order_id in selectors.order_ids_payment_expired():
        enqueue(CREATE_ORDER, EXPIRE_JOB, order_id, job_id=job_id(EXPIRE_JOB_KIND, order_id))
        counts["expiring"] += 1
    for order_id in selectors.order_ids_payment_check_due():
        enqueue(CREATE_ORDER, PAYMENT_CHECK_JOB, order_id, job_id=job_id(PAYMENT_CHECK_JOB_KIND, order_id))
        counts["payment_checks"] += 1
    lost = order_ids_job_lost()
    counts["jobs_lost"] = len(lost)
    for order_id in sorted(set(lost) | set(selectors.order_ids_stuck())):
        enqueue(CREATE_ORDER, FORWARD_JOB, order_id, job_id=job_id(FORWARD_JOB_KIND, order_id))
        counts["reforwarded"] += 1
    for order_id in selectors.order_ids_due_status_check():
        _status_check_enqueue(order_id)
        counts["status_checks"] += 1
    if counts["jobs_lost"]:
        logger.warning("orders.sweep.jobs_lost", extra=counts)
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
