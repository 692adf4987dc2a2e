"""Queue entry points of the orders app (`create-order` queue)."""

from rq import get_current_job
from rq.job import Job

from integrations.cj.errors import CJError
from orders.cj_updates import order_sync_cj_status
from orders.forwarding import order_forward_to_cj, order_forwarding_retry_note
from orders.sweeps import orders_sweep


def order_forward_to_cj_job(order_id: int) -> str | None:
    """Forward one order to CJ; transient CJ errors raise so RQ retries with backoff, each one
    written on the order's timeline (attempt, CJ's answer, next try)."""
    job = get_current_job()
    try:
        order = order_forward_to_cj(order_id=order_id, job_id=job.id if job else None)
    except CJError as error:  # permanent ones were recorded as `failed`: these are retried
        attempt, retry_in = _attempt_and_next_try(job)
        order_forwarding_retry_note(
            order_id=order_id, error=error, attempt=attempt, retry_in_seconds=retry_in, job_id=job.id if job else None
        )
        raise
    return order.status if order else None


def _attempt_and_next_try(job: Job | None) -> tuple[int, int | None]:
    """This run's attempt number and the seconds until RQ runs the job again (None: no retry
    left), read as RQ will decide it (`Job.retry`) once the job raises."""
    if job is None or not job.retries_left:
        tries = len(job.retry_intervals or ()) + 1 if job is not None else 1
        return tries, None
    intervals = job.retry_intervals or [0]
    return len(intervals) - job.retries_left + 1, job.get_retry_interval()


def order_sync_cj_status_job(order_id: int) -> str | None:
    """Ask CJ for one placed order's status and apply it."""
    order = order_sync_cj_status(order_id=order_id)
    return order.status if order else None


def orders_sweep_job() -> dict[str, int]:
    """Periodic: re-enqueue stuck orders and check quiet ones at CJ."""
    return orders_sweep()
