"""Order use cases: placement (validated, idempotent, stock reserved), status transitions with
their timeline, cancellation and retry. The storefront's intake (quote, then place) is
orders/intake.py, forwarding to CJ orders/forwarding.py, quotes orders/freight.py."""

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from catalog.models import Variant
from catalog.services import variant_stock_release, variant_stock_reserve
from config.queues import CREATE_ORDER, enqueue_on_commit, job_id
from config.request_context import current_request_id
from crm.services import customer_get_or_create
from orders.errors import (
    IdempotencyKeyInFlight,
    IdempotencyKeyMismatch,
    OrderNotCancellable,
    OrderRejected,
    OutOfStock,
)
from orders.models import Order, OrderEvent, OrderItem
from orders.selectors import variants_for_order_lines

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


def request_hash(body: Any) -> str:
    """A stable hash of a request body, to tell a replay from a different request."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


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
) -> tuple[Order, bool]:
    """Accept an order as `pending` with its quoted shipping: validate its lines, reserve stock,
    link the customer, write the order, its items and timeline, and enqueue its forwarding to CJ
    after commit. Prices come from our catalog only. Calls no external service.

    `variants` are the lines' variants when the caller has read them already (order_intake);
    otherwise they are read here. Returns (order, created). With an Idempotency-Key already used
    for the same body, returns the first order and creates nothing. Raises IdempotencyKeyMismatch
    (the key was used with another body), IdempotencyKeyInFlight (the first request with the key
    is still running), OrderRejected (unknown or inactive variant) and OutOfStock.
    """
    with transaction.atomic():
        if idempotency_key:
            existing = _idempotent_replay(idempotency_key, body_hash)
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
        order = Order.objects.create(
            number=order_number_new(),
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
            total=items_total + shipping_total,
            status=Order.Status.PENDING,
            status_changed_at=now,
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
        _event(order, "", Order.Status.PENDING, "Order accepted; stock reserved.")
        _enqueue_forwarding(order)
    business_logger.info(
        "orders.placed",
        extra={"order": order.number, "total": str(order.total), "items": len(lines), "customer": customer.pk},
    )
    return order, True


def _idempotent_replay(key: str, body_hash: str) -> Order | None:
    # One transaction-scoped advisory lock per key: a second request with the same key while the
    # first is still running does not wait, it is told so (409).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [f"order-idem:{key}"])
        (locked,) = cursor.fetchone()
    if not locked:
        raise IdempotencyKeyInFlight()
    return order_idempotent_replay(idempotency_key=key, body_hash=body_hash)


def order_idempotent_replay(*, idempotency_key: str, body_hash: str) -> Order | None:
    """The order already accepted with this Idempotency-Key and the same body, or None when the
    key is new. Raises IdempotencyKeyMismatch when the key was used with another body."""
    existing = Order.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        return None
    if existing.request_hash != body_hash:
        raise IdempotencyKeyMismatch()
    return existing


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


def _release_stock(order: Order) -> None:
    for variant_id, quantity in order.items.values_list("variant_id", "quantity"):
        variant_stock_release(variant_id=variant_id, quantity=quantity)


def _enqueue_forwarding(order: Order) -> None:
    # Under the order's one job id (`order-forward-<pk>`): the sweeper finds a vanished job by it.
    enqueue_on_commit(
        CREATE_ORDER, "orders.jobs.order_forward_to_cj_job", order.pk, job_id=job_id("order-forward", order.pk)
    )


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
    a `business` log line; release the stock reservation when the move ends it (failed, cancelled). Returns the order
    unchanged when the move is not allowed (a late or repeated message)."""
    from_status = order.status
    if to_status != from_status and not order.can_move_to(to_status):
        return order
    was_reserving = order.is_reserving_stock
    for name, value in fields.items():
        setattr(order, name, value)
    if to_status != from_status:
        order.status = to_status
        order.status_changed_at = timezone.now()
    order.save()
    if was_reserving and to_status in (Order.Status.FAILED, Order.Status.CANCELLED):
        _release_stock(order)
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

    Raises OutOfStock when the stock is no longer there."""
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status != Order.Status.FAILED:
        return order
    if _reserve_stock(list(order.items.values_list("variant_id", "quantity"))) is not None:
        raise OutOfStock(details={"items": ["Not enough stock left to retry."]})
    order_transition(
        order=order,
        to_status=Order.Status.PENDING,
        message="Retry requested.",
        staff_user=staff_user,
        failure_reason="",
        failure_message="",
    )
    _enqueue_forwarding(order)
    return order


@transaction.atomic
def order_cancel(*, order_id: int, staff_user: Any = None, reason: str = "") -> Order:
    """Cancel an order CJ has not been asked to take yet (pending or failed), releasing its stock.

    Raises OrderNotCancellable otherwise: a forwarding order may be created at CJ at this very
    moment, and a placed one needs CJ's own cancellation."""
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status == Order.Status.CANCELLED:
        return order
    if order.status not in (Order.Status.PENDING, Order.Status.FAILED):
        refusal = f"An order that is {order.status} cannot be cancelled here."
        raise OrderNotCancellable(refusal, details={"status": [refusal]})
    return order_transition(
        order=order,
        to_status=Order.Status.CANCELLED,
        message=f"Cancelled by staff{': ' + reason if reason else ''}.",
        staff_user=staff_user,
    )
