"""Order use cases: placement (validated, idempotent, stock reserved), status transitions with
their timeline, cancellation and retry. The storefront's intake (quote, then place) is
orders/intake.py, forwarding to CJ orders/forwarding.py, quotes orders/freight.py."""

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import Variant
from catalog.stock import variant_stock_reserve, variants_stock_recompute
from config.queues import CREATE_ORDER, enqueue_on_commit, job_id
from config.request_context import current_request_id
from crm.services import customer_get_or_create
from orders.errors import (
    OrderNotCancellable,
    OrderNotRetryable,
    OrderRejected,
    OutOfStock,
)
from orders.idempotency import idempotent_replay_locked
from orders.models import Order, OrderEvent, OrderItem
from orders.selectors import order_skus_not_sold, variants_for_order_lines

business_logger = logging.getLogger("business")

NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone


@dataclass(frozen=True)
class OrderLineInput:
    variant_id: int
    quantity: int


@dataclass(frozen=True)
class ShippingAddress:
    line1: str
    city: str
    province: str
    country_code: str
    line2: str = ""
    zip: str = ""


def order_number_new() -> str:
    """A fresh public order number, e.g. `DS-7KQ4M2XP9A`."""
    return "DS-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(10))


def order_place(
    *,
    email: str,
    name: str,
    phone: str,
    address: ShippingAddress,
    lines: Sequence[OrderLineInput],
    logistic_name: str,
    shipping_total: Decimal,
    idempotency_key: str | None = None,
    body_hash: str = "",
    variants: Mapping[int, Variant] | None = None,
    number: str | None = None,
    payment_intent_id: str = "",
    payment_reference: str = "",
) -> tuple[Order, bool]:
    """Accept an order with its quoted shipping: validate its lines, reserve stock, link the
    customer, write the order, its items and timeline. Prices come from our catalog only. Calls no
    external service.

    The order waits in `awaiting_payment` (for the Stripe PaymentIntent `payment_intent_id`,
    created by the caller under `number`), or, with a `payment_reference` (a storefront that took
    the payment itself), starts `paid` with its forwarding to CJ enqueued after commit.

    `variants` are the lines' variants when the caller has read them already (order_intake);
    otherwise they are read here. Returns (order, created). With an Idempotency-Key already used
    for the same body, returns the first order and creates nothing. Raises IdempotencyKeyMismatch
    (the key was used with another body), IdempotencyKeyInFlight (the first request with the key
    is still running), OrderRejected (unknown or inactive variant) and OutOfStock.
    """
    with transaction.atomic():
        if idempotency_key:
            existing = idempotent_replay_locked(idempotency_key, body_hash)
            if existing is not None:
                return existing, False

        if variants is None:
            variants = order_lines_validate(variant_ids=[line.variant_id for line in lines])
        short = _reserve_stock([(line.variant_id, line.quantity) for line in lines])
        if short is not None:
            index = next(i for i, line in enumerate(lines) if line.variant_id == short)
            raise OutOfStock(details={"items": {str(index): ["Not enough stock for this quantity."]}})

        # Links an existing customer without writing to it: whoever types an email is not thereby
        # that person. The order keeps the buyer details it was given.
        customer = customer_get_or_create(
            email=email,
            name=name,
            phone=phone,
            address={
                "line1": address.line1,
                "line2": address.line2,
                "city": address.city,
                "province": address.province,
                "zip": address.zip,
                "country_code": address.country_code,
            },
        )
        items_total = sum((variants[line.variant_id].price * line.quantity for line in lines), Decimal("0.00"))
        now = timezone.now()
        total = items_total + shipping_total
        is_paid = bool(payment_reference)
        order = Order.objects.create(
            number=number or order_number_new(),
            customer=customer,
            email=customer.email,
            phone=phone,
            shipping_name=name,
            shipping_line1=address.line1,
            shipping_line2=address.line2,
            shipping_city=address.city,
            shipping_province=address.province,
            shipping_zip=address.zip,
            shipping_country_code=address.country_code,
            logistic_name=logistic_name,
            items_total=items_total,
            shipping_total=shipping_total,
            currency=settings.CATALOG_CURRENCY,
            total=total,
            status=Order.Status.PAID if is_paid else Order.Status.AWAITING_PAYMENT,
            status_changed_at=now,
            payment_provider=Order.PaymentProvider.EXTERNAL if is_paid else Order.PaymentProvider.STRIPE,
            payment_intent_id=payment_intent_id,
            payment_reference=payment_reference,
            paid_amount=total if is_paid else None,
            paid_at=now if is_paid else None,
            idempotency_key=idempotency_key,
            request_hash=body_hash,
            access_token=secrets.token_urlsafe(24),
        )
        OrderItem.objects.bulk_create(
            OrderItem(
                order=order,
                variant=variants[line.variant_id],
                quantity=line.quantity,
                unit_price=variants[line.variant_id].price,
                unit_cost=variants[line.variant_id].supplier_cost,
            )
            for line in lines
        )
        if is_paid:
            _event(
                order, "", Order.Status.PAID, f"Order accepted, paid (reference {payment_reference}); stock reserved."
            )
            order_enqueue_forwarding(order)
        else:
            _event(order, "", Order.Status.AWAITING_PAYMENT, "Order accepted; stock reserved until the buyer pays.")
    business_logger.info(
        "orders.placed",
        extra={"order": order.number, "total": str(order.total), "items": len(lines), "customer": customer.pk},
    )
    return order, True


def order_lines_validate(*, variant_ids: Sequence[int]) -> dict[int, Variant]:
    """The variants of an order's lines, by id. Raises OrderRejected with the per-line errors
    (unknown variant, variant or product not active)."""
    found, errors = variants_for_order_lines(list(variant_ids))
    if errors:
        raise OrderRejected(details={"items": errors})
    return found


def _reserve_stock(lines: Sequence[tuple[int, int]]) -> int | None:
    """Reserve every line in variant-id order (concurrent orders lock rows in the same order and
    never deadlock); return the first variant id that is short, or None. The caller's transaction
    rolls back the lines already taken when one is short."""
    for variant_id, quantity in sorted(lines):
        if not variant_stock_reserve(variant_id=variant_id, quantity=quantity):
            return variant_id
    return None


def _stock_group(status: str) -> str:
    if status in Order.RESERVING_STATUSES:
        return "reserving"
    return "placed" if status in Order.PLACED_STATUSES else ""


def _stock_recompute(order: Order) -> None:
    """Derive the order's variants' stock again: its units left our reservations (failed,
    cancelled) or went to CJ (placed: a CJ figure taken since may count them already)."""
    variants_stock_recompute(variant_ids=order.items.values_list("variant_id", flat=True))


def order_enqueue_forwarding(order: Order) -> None:
    """Enqueue the forwarding of a (just paid) order to CJ once the transaction commits, under the
    order's one job id (`order-forward-<pk>`): the sweeper finds a vanished job by it."""
    enqueue_on_commit(
        CREATE_ORDER, "orders.jobs.order_forward_to_cj_job", order.pk, job_id=job_id("order-forward", order.pk)
    )


def order_enqueue_refund(order: Order) -> None:
    """Enqueue the refund of an order's Stripe payment once the transaction commits."""
    enqueue_on_commit(CREATE_ORDER, "orders.jobs.order_refund_job", order.pk, job_id=job_id("order-refund", order.pk))


# Why CJ refuses an order for good such that the buyer gets the money back without staff: the goods
# are not there. Other reasons (address, logistic, our CJ balance) can be fixed and retried by staff.
REFUND_ON_FAILURE_REASONS = (Order.FailureReason.OUT_OF_STOCK, Order.FailureReason.VARIANT_UNAVAILABLE)


def _refund_due(order: Order) -> bool:
    """Whether the order just ended in a way that owes the buyer their Stripe payment."""
    if not order.payment_intent_id or not order.paid_amount or order.refunded_amount:
        return False
    if order.status in (Order.Status.CANCELLED, Order.Status.EXPIRED):
        return True
    return order.status == Order.Status.FAILED and order.failure_reason in REFUND_ON_FAILURE_REASONS


def _event(
    order: Order,
    from_status: str,
    to_status: str,
    message: str,
    data: dict[str, Any] | None = None,
    staff_user: Any = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        from_status=from_status,
        to_status=to_status,
        message=message[:500],
        data={"request_id": current_request_id() or None, **(data or {})},
        staff_user=staff_user,
    )


def order_event_add(*, order: Order, message: str, data: dict[str, Any] | None = None) -> OrderEvent:
    """Add a note to a (locked) order's timeline without moving its status (e.g. a CJ retry)."""
    return _event(order, "", "", message, data)


def order_transition(
    *,
    order: Order,
    to_status: str,
    message: str,
    data: dict[str, Any] | None = None,
    staff_user: Any = None,
    **fields: Any,
) -> Order:
    """Move a (locked) order to `to_status` if allowed, set `fields`, write its timeline entry and
    a `business` log line. Returns the order
    unchanged when the move is not allowed (a late or repeated message). A move to `placed` dates
    `placed_at` (now, unless `fields` carry it); a move that changes who holds the order's units
    (our reservation, CJ, nobody) derives the variants' stock again (catalog.stock)."""
    from_status = order.status
    if to_status != from_status and not order.can_move_to(to_status):
        return order
    for name, value in fields.items():
        setattr(order, name, value)
    if to_status != from_status:
        order.status = to_status
        order.status_changed_at = timezone.now()
    if to_status == Order.Status.PLACED and order.placed_at is None:
        order.placed_at = order.status_changed_at
    order.save()
    # Entering a reserving status takes its units by the conditional reserve (intake, retry).
    if _stock_group(to_status) != _stock_group(from_status) and to_status not in Order.RESERVING_STATUSES:
        _stock_recompute(order)
    if to_status != from_status and _refund_due(order):
        order_enqueue_refund(order)
    if to_status != from_status or message:
        _event(order, from_status, to_status if to_status != from_status else "", message, data, staff_user)
    business_logger.info(
        "orders.status_changed",
        extra={
            "order": order.number,
            "from_status": from_status,
            "to_status": to_status,
            "cj_order_id": order.cj_order_id or None,
            "job_id": (data or {}).get("job_id"),
        },
    )
    return order


@transaction.atomic
def order_fail(*, order_id: int, reason: str, message: str, cj_response: dict | None = None) -> Order:
    """Record a permanent forwarding failure and release the order's reserved stock."""
    order = Order.objects.select_for_update().get(pk=order_id)
    return order_transition(
        order=order,
        to_status=Order.Status.FAILED,
        message=f"Forwarding failed: {message}",
        data={"reason": reason},
        failure_reason=reason,
        failure_message=message[:500],
        last_cj_response=cj_response,
    )


@transaction.atomic
def order_retry_forwarding(*, order_id: int, staff_user: Any = None) -> Order:
    """Staff retry of a failed order: reserve its stock again and forward it once more.

    Raises OrderNotRetryable when the order is not failed or a line's variant (or its product) is
    no longer sold, a permanent failure a retry would only repeat; OutOfStock when the stock is no
    longer there."""
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status != Order.Status.FAILED:
        raise OrderNotRetryable(
            f"Order {order.number} is {order.get_status_display()}, not failed: there is nothing to retry."
        )
    if order.refunded_amount:
        raise OrderNotRetryable(
            f"Order {order.number} cannot be retried: the buyer was refunded {order.refunded_amount} {order.currency}."
        )
    gone = order_skus_not_sold(order_id=order.pk)
    if gone:
        lines = f"variant {gone[0]} is" if len(gone) == 1 else f"variants {', '.join(gone)} are"
        raise OrderNotRetryable(
            f"Order {order.number} cannot be retried: {lines} no longer sold "
            "(inactive in the catalog), so CJ would refuse it again; cancel the order instead."
        )
    if _reserve_stock(list(order.items.values_list("variant_id", "quantity"))) is not None:
        raise OutOfStock(
            f"Order {order.number} cannot be retried: not enough stock left for its items.",
            details={"items": ["Not enough stock left to retry."]},
        )
    order_transition(
        order=order,
        to_status=Order.Status.PAID,
        message="Retry requested.",
        staff_user=staff_user,
        failure_reason="",
        failure_message="",
    )
    order_enqueue_forwarding(order)
    return order


@transaction.atomic
def order_cancel(*, order_id: int, staff_user: Any = None, reason: str = "") -> Order:
    """Cancel an order CJ has not been asked to take yet (awaiting payment, paid or failed),
    releasing its stock; a paid one is refunded by the `create-order` queue after commit
    (orders.payment_flow.order_refund), an unpaid one's PaymentIntent cancelled.

    Raises OrderNotCancellable otherwise: a forwarding order may be created at CJ at this very
    moment, and a placed one needs CJ's own cancellation."""
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status == Order.Status.CANCELLED:
        return order
    if order.status not in (Order.Status.AWAITING_PAYMENT, Order.Status.PAID, Order.Status.FAILED):
        refusal = (
            f"Order {order.number} is {order.get_status_display()}: CJ has it or may be creating it now, "
            "so only CJ can cancel it (only unpaid, paid or failed orders are cancelled here)."
        )
        raise OrderNotCancellable(refusal, details={"status": [refusal]})
    was_unpaid = order.status == Order.Status.AWAITING_PAYMENT
    order = order_transition(
        order=order,
        to_status=Order.Status.CANCELLED,
        message=f"Cancelled by staff{': ' + reason if reason else ''}.",
        staff_user=staff_user,
    )
    if was_unpaid and order.payment_intent_id:
        enqueue_on_commit(CREATE_ORDER, "orders.jobs.order_payment_intent_cancel_job", order.pk)
    return order
