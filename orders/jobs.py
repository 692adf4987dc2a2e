"""Queue entry points of the orders app (`create-order` queue)."""

from rq import get_current_job

from orders.cj_balance import cj_balance_check
from orders.cj_payment import order_pay_at_cj
from orders.cj_updates import order_sync_cj_status
from orders.forwarding import order_forward_to_cj
from orders.sweeps import orders_sweep


def _job_id() -> str | None:
    job = get_current_job()
    return job.id if job else None


def order_forward_to_cj_job(order_id: int) -> str | None:
    """Forward one order to CJ; transient CJ errors raise so RQ retries with backoff."""
    order = order_forward_to_cj(order_id=order_id, job_id=_job_id())
    return order.status if order else None


def order_sync_cj_status_job(order_id: int) -> str | None:
    """Ask CJ for one placed order's status and apply it."""
    order = order_sync_cj_status(order_id=order_id)
    return order.status if order else None


def orders_sweep_job() -> dict[str, int]:
    """Periodic: re-enqueue stuck orders and check quiet ones at CJ."""
    return orders_sweep()


def order_pay_at_cj_job(order_id: int) -> str | None:
    """Pay one placed order at CJ from the balance (or hold it, or let it wait for balance)."""
    order = order_pay_at_cj(order_id=order_id, job_id=_job_id())
    return order.cj_payment_status if order else None


def cj_balance_check_job() -> dict[str, str | int]:
    """Periodic: read the CJ balance, alert when low, pay orders waiting for it; re-enqueue lost payments."""
    return cj_balance_check()
