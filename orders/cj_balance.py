"""The CJ balance: checked on a schedule with `getBalance`, kept for /metrics and /health, and
spent on the orders that wait for it.

`cj_balance_check` (every `CJ_BALANCE_CHECK_SECONDS`, `config/cron.py`) re-enqueues the CJ
payments that are due but whose job was lost (Redis down at commit, a worker killed), makes due
the placed orders that are not (placed by a CJ webhook while their forwarding job had died, or
before CJ payments were made here), reads the
balance, stores it in Redis (`cj:balance`, shared by every process), logs
`orders.cj_balance.alert` (ERROR) below `CJ_BALANCE_ALERT_BELOW`, and enqueues the payment of the
orders waiting for balance, oldest first, as far as the balance reaches.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from config.queues import CREATE_ORDER, enqueue, get_queue, job_id
from integrations.cj.client import get_client
from orders.cj_payment import PAY_JOB, PAY_JOB_KIND, order_cj_payment_record
from orders.models import Order

logger = logging.getLogger(__name__)

SNAPSHOT_KEY = "cj:balance"
Status = Order.CJPaymentStatus


@dataclass(frozen=True)
class BalanceSnapshot:
    """The CJ balance as last read (USD) and whether it is below the alert threshold."""

    amount: Decimal
    frozen: Decimal
    bonus: Decimal
    checked_at: datetime

    @property
    def alert_below(self) -> Decimal:
        return Decimal(settings.CJ_BALANCE_ALERT_BELOW)

    @property
    def is_alerting(self) -> bool:
        return self.amount < self.alert_below


def cj_balance_snapshot() -> BalanceSnapshot | None:
    """The last balance read (None before the first check); raises redis.RedisError when Redis is down."""
    raw = get_queue(CREATE_ORDER).connection.get(SNAPSHOT_KEY)
    if raw is None:
        return None
    values = json.loads(raw)
    return BalanceSnapshot(
        amount=Decimal(values["amount"]),
        frozen=Decimal(values["frozen"]),
        bonus=Decimal(values["bonus"]),
        checked_at=datetime.fromisoformat(values["checked_at"]),
    )


def _enqueue_payment(order_id: int) -> None:
    enqueue(CREATE_ORDER, PAY_JOB, order_id, job_id=job_id(PAY_JOB_KIND, order_id))


def cj_balance_check() -> dict[str, str | int]:
    """Re-enqueue lost CJ payments, read and store the balance (alert when low), and enqueue the
    payment of orders waiting for balance that it covers. Raises CJ's errors (the balance
    unread) and redis.RedisError."""
    lost_since = timezone.now() - timedelta(seconds=settings.ORDERS_STUCK_AFTER_SECONDS)
    # A placed order not yet due reached `placed` another way (a CJ webhook or status check while
    # its forwarding job had died), or before CJ payments were made here: it is due now.
    not_due = Order.objects.filter(status=Order.Status.PLACED, cj_payment_status=Status.NONE, updated_at__lt=lost_since)
    made_due = list(not_due.values_list("pk", flat=True))
    for order_id in made_due:
        order_cj_payment_record(order_id, "CJ payment due (found placed, not yet due).", cj_payment_status=Status.DUE)
    lost = list(
        Order.objects.filter(
            status=Order.Status.PLACED, cj_payment_status=Status.DUE, updated_at__lt=lost_since
        ).values_list("pk", flat=True)
    )
    for order_id in [*made_due, *lost]:
        _enqueue_payment(order_id)

    balance = get_client().get_balance()
    snapshot = BalanceSnapshot(
        amount=balance.amount, frozen=balance.frozen, bonus=balance.bonus, checked_at=timezone.now()
    )
    get_queue(CREATE_ORDER).connection.set(
        SNAPSHOT_KEY,
        json.dumps(
            {
                "amount": str(snapshot.amount),
                "frozen": str(snapshot.frozen),
                "bonus": str(snapshot.bonus),
                "checked_at": snapshot.checked_at.isoformat(),
            }
        ),
    )
    if snapshot.is_alerting:
        logger.error(
            "orders.cj_balance.alert",
            extra={"amount": str(snapshot.amount), "alert_below": str(snapshot.alert_below)},
        )

    available = snapshot.amount
    released = 0
    waiting = Order.objects.filter(status=Order.Status.PLACED, cj_payment_status=Status.WAITING_BALANCE).order_by(
        "status_changed_at", "pk"
    )
    for order_id, amount in waiting.values_list("pk", "cj_order_amount"):
        if amount is not None and amount > available:
            break  # oldest first: a younger, cheaper order does not overtake it
        available -= amount or Decimal(0)
        _enqueue_payment(order_id)
        released += 1
    summary: dict[str, str | int] = {
        "balance": str(snapshot.amount),
        "released": released,
        "reenqueued": len(lost),
        "made_due": len(made_due),
    }
    logger.info("orders.cj_balance.checked", extra=summary)
    return summary
