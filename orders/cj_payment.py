"""Paying CJ for each placed order from the CJ balance, within the cost guard.

The flow is the one CJ's "Orders Synchronization Processing" page documents for orders CJ ships:
the order is created with payType 3 (`forwarding.py`), then `addCart` -> `addCartConfirm` (a
shipment) -> `saveGenerateParentOrder` (its payId) -> `payBalanceV2`. An order whose shipment id
was lost (the worker died between CJ's answer and our write) is paid with the one-order
`payBalance`, which CJ takes for a confirmed (UNPAID) order.

Never twice: every run first reads the order's state at CJ (`getOrderDetail`) and pays only an
order CJ has not been paid for; payments are serialised by one PostgreSQL advisory lock, so the
day's spending is checked and spent by one payer at a time. CJ is never called inside a
database transaction.

- Cost guard: CJ's orderAmount may not exceed what the buyer paid minus the margin floor
  (`CATALOG_MIN_MARGIN_PERCENT` of the items), and the day's (UTC) CJ spending may not pass
  `CJ_DAILY_SPEND_LIMIT`; beyond either the order is `held` until staff approve it.
- Not enough balance: the order waits (`waiting_balance`); `orders.cj_balance` pays it once
  `getBalance` shows the balance allows.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from config.queues import CREATE_ORDER, enqueue_on_commit, job_id
from config.request_context import current_request_id
from integrations.cj.client import CJClient, get_client
from integrations.cj.errors import (
    CJBalanceInsufficientError,
    CJBalanceRestrictedError,
    CJPaymentError,
    CJPaymentFailedError,
)
from integrations.cj.types import OrderDetail
from orders.errors import CJPaymentNotHeld
from orders.models import Order, OrderEvent

logger = logging.getLogger(__name__)
business_logger = logging.getLogger("business")

PAY_JOB = "orders.jobs.order_pay_at_cj_job"
PAY_JOB_KIND = "order-cj-pay"
# CJ order states after its payment (CONTRACT §8.7).
PAID_AT_CJ = frozenset({"UNSHIPPED", "SHIPPED", "DELIVERED"})
PAYABLE_AT_CJ = frozenset({"CREATED", "IN_CART", "UNPAID"})
# pg_advisory_lock key of the one payer at a time ("cjpay" in ASCII).
_PAYER_LOCK = 0x636A706179
Status = Order.CJPaymentStatus


def order_cj_payment_enqueue(order: Order) -> None:
    """Enqueue the order's CJ payment after the current transaction commits."""
    enqueue_on_commit(CREATE_ORDER, PAY_JOB, order.pk, job_id=job_id(PAY_JOB_KIND, order.pk))


def cj_spent_today() -> Decimal:
    """What was paid at CJ since 00:00 UTC."""
    midnight = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    spent = Order.objects.filter(cj_paid_at__gte=midnight).aggregate(total=Sum("cj_paid_amount"))["total"]
    return spent or Decimal("0.00")


def cost_ceiling(order: Order) -> Decimal:
    """The most CJ may charge for the order: what the buyer paid minus the margin floor of the items."""
    margin = Decimal(settings.CATALOG_MIN_MARGIN_PERCENT) / 100
    return (order.total - order.items_total * margin).quantize(Decimal("0.01"))


def _guard_refusal(order: Order, amount: Decimal) -> tuple[str, str] | None:
    """(guard, why) when paying `amount` for the order needs staff approval; None when it may be paid."""
    ceiling = cost_ceiling(order)
    if amount > ceiling:
        return "cost", (
            f"CJ asks {amount} {order.currency}, more than the {ceiling} the cost guard allows (the buyer paid "
            f"{order.total}, minus the {settings.CATALOG_MIN_MARGIN_PERCENT}% margin floor of the items' "
            f"{order.items_total})."
        )
    limit = Decimal(settings.CJ_DAILY_SPEND_LIMIT)
    spent = cj_spent_today()
    if limit and spent + amount > limit:
        return "daily_limit", (
            f"Paying {amount} would take today's CJ spending to {spent + amount}, over CJ_DAILY_SPEND_LIMIT {limit}."
        )
    return None


@contextmanager
def _one_payer() -> Iterator[None]:
    """A session-level advisory lock (no transaction is held while CJ is called); a killed worker's
    session ends with its process, and the lock with it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_PAYER_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_PAYER_LOCK])


@transaction.atomic
def order_cj_payment_record(order_id: int, message: str, *, data: dict[str, Any] | None = None, **fields: Any) -> Order:
    """Set fields on the (locked) order and write a timeline entry for one CJ payment step."""
    order = Order.objects.select_for_update().get(pk=order_id)
    for name, value in fields.items():
        setattr(order, name, value)
    if fields:
        order.save(update_fields=[*fields, "updated_at"])
    OrderEvent.objects.create(
        order=order, message=message[:500], data={"request_id": current_request_id() or None, **(data or {})}
    )
    return order


def order_pay_at_cj(*, order_id: int, job_id: str | None = None) -> Order | None:
    """Pay a placed order at CJ from the balance, once; or hold it, or let it wait for balance.

    Transient CJ errors propagate (the job is retried; the next run reads CJ's state before
    paying again). Returns None when the order is gone, the order unchanged when nothing is due.
    """
    order = Order.objects.filter(pk=order_id).first()
    if order is None or not _is_due(order):
        return order
    client = get_client()
    with _one_payer():
        order.refresh_from_db()
        if not _is_due(order):  # another payer finished it while this one waited
            return order
        detail = client.get_order(order_id=order.cj_order_id or order.number)
        if detail.status in PAID_AT_CJ:
            return _paid(order, detail.order_amount, detail.paid_at, "Found paid at CJ.", job_id)
        amount = detail.order_amount
        if detail.status not in PAYABLE_AT_CJ:  # e.g. CANCELLED at CJ: nothing to pay, staff to look
            return _hold(order, amount, f"Held for staff: CJ says the order is {detail.status}.", {"job_id": job_id})
        if amount is None:
            return _hold(order, None, "Held for staff: CJ did not say the order's amount.", {"job_id": job_id})
        if order.cj_payment_approved_at is None:
            refusal = _guard_refusal(order, amount)
            if refusal is not None:
                guard, why = refusal
                return _hold(order, amount, f"Held for staff approval: {why}", {"guard": guard, "job_id": job_id})
        try:
            _pay(client, order, detail, job_id)
        except CJBalanceInsufficientError as error:
            return order_cj_payment_record(
                order.pk,
                f"Waiting for CJ balance: it does not cover {amount} {order.currency} ({error.message}).",
                data={"job_id": job_id, "code": error.code},
                cj_payment_status=Status.WAITING_BALANCE,
                cj_order_amount=amount,
            )
        except CJBalanceRestrictedError as error:
            why = f"CJ restricts balance payment for the account ({error.message}): pay it in MyCJ."
            return _hold(order, amount, f"Held for staff: {why}", {"code": error.code, "job_id": job_id})
        except CJPaymentError as error:
            after = client.get_order(order_id=order.cj_order_id or order.number)
            if after.status in PAID_AT_CJ:
                return _paid(order, after.order_amount, after.paid_at, "Found paid at CJ.", job_id)
            why = f"CJ refused the payment ({error.message})."
            return _hold(order, amount, f"Held for staff: {why}", {"code": error.code, "job_id": job_id})
        return _paid(order, amount, None, "Paid at CJ from the balance.", job_id)


def _is_due(order: Order) -> bool:
    return order.status == Order.Status.PLACED and order.cj_payment_status in (Status.DUE, Status.WAITING_BALANCE)


def _pay(client: CJClient, order: Order, detail: OrderDetail, job_id: str | None) -> None:
    """Walk CJ's payment flow from where the order stands at CJ; raises CJ's errors."""
    cj_id = detail.cj_order_id or order.cj_order_id
    status = detail.status
    data = {"job_id": job_id}
    if status == "CREATED":
        client.add_cart(cj_order_ids=[cj_id])
        order_cj_payment_record(order.pk, "Added to CJ's cart.", data=data)
        status = "IN_CART"
    if status == "IN_CART":
        confirmation = client.add_cart_confirm(cj_order_ids=[cj_id])
        if not confirmation.shipment_order_id:
            raise CJPaymentFailedError(
                f"CJ did not confirm the cart: {'; '.join(confirmation.intercepted) or 'no shipment'}",
                endpoint="shopping/order/addCartConfirm",
            )
        order = order_cj_payment_record(
            order.pk,
            f"Confirmed at CJ as shipment {confirmation.shipment_order_id}.",
            data=data,
            cj_shipment_order_id=confirmation.shipment_order_id,
        )
    if not order.cj_shipment_order_id:  # confirmed before, but the shipment id never reached us
        client.pay_balance(cj_order_id=cj_id)
        return
    if not order.cj_pay_id:
        parent = client.save_generate_parent_order(shipment_order_id=order.cj_shipment_order_id)
        order = order_cj_payment_record(
            order.pk, f"CJ parent order ready to pay ({parent.pay_id}).", data=data, cj_pay_id=parent.pay_id
        )
    client.pay_balance_v2(shipment_order_id=order.cj_shipment_order_id, pay_id=order.cj_pay_id)


def _hold(order: Order, amount: Decimal | None, message: str, data: dict[str, Any]) -> Order:
    held = order_cj_payment_record(order.pk, message, data=data, cj_payment_status=Status.HELD, cj_order_amount=amount)
    logger.warning("orders.cj_payment.held", extra={"order": order.number, "amount": str(amount), **data})
    return held


def _paid(order: Order, amount: Decimal | None, paid_at: datetime | None, how: str, job_id: str | None) -> Order:
    amount = amount if amount is not None else order.cj_order_amount
    paid = order_cj_payment_record(
        order.pk,
        f"{how} {amount} {order.currency}.",
        data={"job_id": job_id},
        cj_payment_status=Status.PAID,
        cj_order_amount=amount,
        cj_paid_amount=amount,
        cj_paid_at=paid_at or timezone.now(),
    )
    business_logger.info(
        "orders.cj_payment.paid", extra={"order": order.number, "cj_order_id": order.cj_order_id, "amount": str(amount)}
    )
    return paid


@transaction.atomic
def order_cj_payment_approve(*, order_id: int, staff_user: Any = None) -> Order:
    """Staff approve paying a held order at CJ beyond the cost guard: it is due again and paid by
    the job whatever the guards say. Raises CJPaymentNotHeld when the order is not held."""
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.cj_payment_status != Status.HELD:
        raise CJPaymentNotHeld(
            f"Order {order.number} is not held for approval (CJ payment: {order.get_cj_payment_status_display()})."
        )
    order.cj_payment_status = Status.DUE
    order.cj_payment_approved_at = timezone.now()
    order.save(update_fields=["cj_payment_status", "cj_payment_approved_at", "updated_at"])
    OrderEvent.objects.create(
        order=order,
        message="CJ payment approved by staff.",
        data={"request_id": current_request_id() or None},
        staff_user=staff_user,
    )
    order_cj_payment_enqueue(order)
    business_logger.info(
        "orders.cj_payment.approved", extra={"order": order.number, "staff_user": getattr(staff_user, "pk", None)}
    )
    return order
