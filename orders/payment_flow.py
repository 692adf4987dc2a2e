"""The buyer's money, order side: payment received, payment failed, expiry of an unpaid order,
and refunds. Stripe is called through orders.payments, never inside a database transaction; each
use case then changes the order under its row lock, so a duplicate Stripe event, a retried job or
a worker killed mid-way has one effect.

    awaiting_payment --payment_intent.succeeded (amount and currency right)--> paid --> forwarding ...
    awaiting_payment --wrong amount or currency--> (held for staff: payment_held, stays put)
    awaiting_payment --ORDERS_PAYMENT_TIMEOUT_MINUTES--> expired (stock released, PI cancelled)
    cancelled / failed for good / expired with money received --> refunded
"""

import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.domain_errors import DomainError
from orders.models import Order
from orders.payments import (
    PaymentIntentInfo,
    from_minor_units,
    payment_intent_cancel,
    payment_intent_retrieve,
    refund_create,
    to_minor_units,
)
from orders.services import order_enqueue_forwarding, order_enqueue_refund, order_transition

business_logger = logging.getLogger("business")

# Where a refund may be given: the order ended without CJ shipping it, or its payment was held.
REFUNDABLE_STATUSES = (Order.Status.CANCELLED, Order.Status.FAILED, Order.Status.EXPIRED)


class OrderNotRefundable(DomainError):
    status = 409
    code = "conflict"
    message = "This order has no payment that can be refunded here."


def _locked(*, order_id: int | None = None, payment_intent_id: str = "", number: str = "") -> Order | None:
    orders = Order.objects.select_for_update()
    if order_id is not None:
        return orders.filter(pk=order_id).first()
    if payment_intent_id:
        found = orders.filter(payment_intent_id=payment_intent_id).first()
        if found is not None:
            return found
    return orders.filter(number=number).first() if number else None


@transaction.atomic
def order_payment_succeeded(
    *, payment_intent_id: str, amount: int, currency: str, order_number: str = "", source: str = "webhook"
) -> Order | None:
    """Stripe says the buyer paid (`amount` in minor units). The right amount and currency move an
    unpaid order to `paid` and enqueue its forwarding to CJ; anything else holds it for staff. A
    payment for an order that ended meanwhile (cancelled, expired) is refunded. Once an order has
    a payment recorded, a repeated event changes nothing. Returns None for an unknown PaymentIntent."""
    order = _locked(payment_intent_id=payment_intent_id, number=order_number)
    if order is None or order.payment_intent_id != payment_intent_id:
        return None
    if order.paid_at is not None or order.payment_held:
        return order  # already recorded: a duplicate event, or the expiry's own check
    now = timezone.now()
    paid = from_minor_units(amount, currency)
    expected = to_minor_units(order.total, order.currency)
    label = f"{paid} {currency.upper()} ({payment_intent_id}, {source})"
    if amount != expected or currency.lower() != order.currency.lower():
        reason = f"received {paid} {currency.upper()}, expected {order.total} {order.currency}"
        return order_transition(
            order=order,
            to_status=order.status,
            message=f"Payment held for staff: {reason}.",
            data={"payment_intent_id": payment_intent_id, "amount": amount, "currency": currency},
            paid_amount=paid,
            paid_at=now,
            payment_held=True,
            payment_hold_reason=reason[:200],
        )
    if order.status == Order.Status.AWAITING_PAYMENT:
        order = order_transition(
            order=order,
            to_status=Order.Status.PAID,
            message=f"Paid: {label}.",
            data={"payment_intent_id": payment_intent_id},
            paid_amount=paid,
            paid_at=now,
        )
        order_enqueue_forwarding(order)
        business_logger.info("orders.paid", extra={"order": order.number, "amount": str(paid), "source": source})
        return order
    # Paid after it ended (cancelled or expired while the buyer was paying): give the money back.
    order = order_transition(
        order=order,
        to_status=order.status,
        message=f"Payment arrived after the order was {order.status}: {label}; refunding it.",
        paid_amount=paid,
        paid_at=now,
    )
    order_enqueue_refund(order)
    return order


@transaction.atomic
def order_payment_failed(*, payment_intent_id: str, message: str, code: str = "") -> Order | None:
    """A payment attempt failed (declined card, ...): a timeline entry; the buyer may try again."""
    order = _locked(payment_intent_id=payment_intent_id)
    if order is None:
        return None
    text = message or "the card was declined"
    return order_transition(
        order=order,
        to_status=order.status,
        message=f"Payment attempt failed: {text}{f' ({code})' if code else ''}.",
        data={"payment_intent_id": payment_intent_id, "code": code},
    )


def _apply_intent_state(order: Order, intent: PaymentIntentInfo, source: str) -> Order | None:
    if intent.status == "succeeded":
        return order_payment_succeeded(
            payment_intent_id=intent.id, amount=intent.amount, currency=intent.currency, source=source
        )
    return None


def order_payment_check(*, order_id: int) -> Order | None:
    """Ask Stripe about an unpaid order's PaymentIntent and record a payment whose webhook never
    came. Raises PaymentsUnavailable."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or not order.payment_intent_id or order.paid_at is not None:
        return order
    return _apply_intent_state(order, payment_intent_retrieve(order.payment_intent_id), "status check") or order


def order_expire(*, order_id: int) -> Order | None:
    """Expire an order left unpaid for ORDERS_PAYMENT_TIMEOUT_MINUTES: cancel its PaymentIntent
    first (so it can no longer be paid), then release its stock. A PaymentIntent that succeeded
    meanwhile makes the order paid instead. Raises PaymentsUnavailable (the job retries)."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.status != Order.Status.AWAITING_PAYMENT or order.paid_at is not None:
        return order
    if order.payment_intent_id:
        intent = payment_intent_cancel(order.payment_intent_id)
        paid = _apply_intent_state(order, intent, "expiry check")
        if paid is not None:
            return paid
    with transaction.atomic():
        order = _locked(order_id=order_id)
        if order is None or order.status != Order.Status.AWAITING_PAYMENT or order.paid_at is not None:
            return order
        return order_transition(
            order=order,
            to_status=Order.Status.EXPIRED,
            message=f"Unpaid after {settings.ORDERS_PAYMENT_TIMEOUT_MINUTES} min: expired, stock released, "
            "payment cancelled.",
        )


def order_payment_intent_cancel(*, order_id: int) -> Order | None:
    """After staff cancelled an unpaid order: cancel its PaymentIntent; one that succeeded
    meanwhile is recorded (and so refunded). Raises PaymentsUnavailable."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or not order.payment_intent_id or order.paid_at is not None:
        return order
    return _apply_intent_state(order, payment_intent_cancel(order.payment_intent_id), "cancellation") or order


def order_refund(*, order_id: int, staff_user: Any = None, reason: str = "") -> Order:
    """Give the buyer their Stripe payment back (the whole amount received) and mark the order
    `refunded`: for orders cancelled, failed or expired with a payment, and held payments. Stripe's
    idempotency key is derived from our number, so a retried refund never pays twice.

    Raises OrderNotRefundable, PaymentsUnavailable and PaymentRefused."""
    order = Order.objects.get(pk=order_id)
    if order.status == Order.Status.REFUNDED or order.refunded_amount:
        return order
    is_held = order.payment_held and order.status == Order.Status.AWAITING_PAYMENT
    if not order.payment_intent_id or not order.paid_amount or not (is_held or order.status in REFUNDABLE_STATUSES):
        refusal = f"An order that is {order.get_status_display().lower()} has no payment to refund here."
        raise OrderNotRefundable(refusal, details={"status": [refusal]})
    amount: Decimal = order.paid_amount
    refund = refund_create(
        payment_intent_id=order.payment_intent_id,
        amount=amount,
        currency=order.currency,
        idempotency_key=f"order-{order.number}-refund",
    )
    with transaction.atomic():
        locked = _locked(order_id=order_id)
        if locked is None or locked.refunded_amount:
            return locked or order
        who = "by staff" if staff_user is not None else "automatically"
        order = order_transition(
            order=locked,
            to_status=Order.Status.REFUNDED,
            message=f"Refunded {amount} {order.currency} to the buyer {who} ({refund.id})"
            f"{': ' + reason if reason else ''}.",
            data={"refund_id": refund.id, "refund_status": refund.status},
            staff_user=staff_user,
            refund_id=refund.id,
            refunded_amount=amount,
            refunded_at=timezone.now(),
        )
    business_logger.info("orders.refunded", extra={"order": order.number, "amount": str(amount)})
    return order
