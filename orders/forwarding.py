"""Forwarding orders to CJ exactly once, following their status, and sweeping up lost work.

Our order number is CJ's `orderNumber` and the idempotency key: before creating, CJ is asked
whether the number exists, so a retry after a timeout never creates a second CJ order. CJ is
never called inside a database transaction.
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.queues import CREATE_ORDER, enqueue
from integrations.cj.client import get_client
from integrations.cj.errors import CJNotFoundError, CJPermanentError
from integrations.cj.types import OrderDetail, OrderLine, OrderRequest
from orders.models import Order
from orders.services import order_fail, order_transition

logger = logging.getLogger(__name__)

# CJ codes (CONTRACT §4) -> our failure reasons.
FAILURE_REASONS: dict[int, str] = {
    1602000: Order.FailureReason.VARIANT_UNAVAILABLE,
    1602001: Order.FailureReason.VARIANT_UNAVAILABLE,
    1602002: Order.FailureReason.VARIANT_UNAVAILABLE,
    1602003: Order.FailureReason.VARIANT_UNAVAILABLE,
    1603102: Order.FailureReason.OUT_OF_STOCK,
    1605000: Order.FailureReason.LOGISTIC_UNAVAILABLE,
    1605001: Order.FailureReason.LOGISTIC_UNAVAILABLE,
    1605002: Order.FailureReason.ADDRESS_INVALID,
    1600300: Order.FailureReason.ADDRESS_INVALID,
    16900403: Order.FailureReason.ADDRESS_INVALID,
    1604000: Order.FailureReason.BALANCE_INSUFFICIENT,
    1604001: Order.FailureReason.BALANCE_INSUFFICIENT,
    1603101: Order.FailureReason.BALANCE_INSUFFICIENT,
}

# CJ order status -> ours. CREATED … UNSHIPPED all mean CJ has the order.
CJ_STATUSES: dict[str, str] = {
    "CREATED": Order.Status.PLACED,
    "IN_CART": Order.Status.PLACED,
    "UNPAID": Order.Status.PLACED,
    "UNSHIPPED": Order.Status.PLACED,
    "SHIPPED": Order.Status.SHIPPED,
    "DELIVERED": Order.Status.DELIVERED,
    "CANCELLED": Order.Status.CANCELLED,
}


def order_forward_to_cj(*, order_id: int, job_id: str | None = None) -> Order | None:
    """Create the order at CJ once (look up first, then createOrderV2) and mark it `placed`.

    Transient CJ errors propagate so that the job is retried; permanent ones mark the order
    `failed` with a typed reason and release its stock. Returns None when the order is gone.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status not in (Order.Status.PENDING, Order.Status.FORWARDING):
            return order
        if order.status == Order.Status.PENDING:
            order_transition(
                order=order, to_status=Order.Status.FORWARDING, message="Forwarding to CJ.", data={"job_id": job_id}
            )
        request = _order_request(order)

    client = get_client()
    try:
        existing = client.get_order(order_id=order.number)
    except CJNotFoundError:
        existing = None
    if existing is not None:
        return _mark_placed(order_id, existing.cj_order_id, existing.status, "Found at CJ (created earlier).", job_id)

    try:
        created = client.create_order(order=request)
    except CJPermanentError as error:
        if error.code == 1603003:  # CJ already has this number: a concurrent or earlier attempt won.
            found = client.get_order(order_id=order.number)
            return _mark_placed(order_id, found.cj_order_id, found.status, "Found at CJ (duplicate number).", job_id)
        reason = FAILURE_REASONS.get(error.code or 0, Order.FailureReason.REJECTED)
        return order_fail(
            order_id=order_id,
            reason=reason,
            message=error.message,
            cj_response={"code": error.code, "message": error.message, "requestId": error.request_id},
        )
    return _mark_placed(order_id, created.cj_order_id or "", created.status, "Created at CJ.", job_id)


def _order_request(order: Order) -> OrderRequest:
    return OrderRequest(
        order_number=order.number,
        shipping_country_code=order.shipping_country_code,
        shipping_country=order.shipping_country_code,
        shipping_province=order.shipping_province,
        shipping_city=order.shipping_city,
        shipping_address=order.shipping_line1,
        shipping_address2=order.shipping_line2,
        shipping_zip=order.shipping_zip,
        shipping_customer_name=order.shipping_name,
        shipping_phone=order.phone,
        email=order.email,
        logistic_name=order.logistic_name,
        from_country_code=settings.CJ_SHIP_FROM_COUNTRY,
        lines=tuple(
            OrderLine(vid=item.variant.cj_vid, quantity=item.quantity, store_line_item_id=str(item.pk))
            for item in order.items.select_related("variant")
        ),
    )


@transaction.atomic
def _mark_placed(order_id: int, cj_order_id: str, cj_status: str, message: str, job_id: str | None) -> Order:
    order = Order.objects.select_for_update().get(pk=order_id)
    return order_transition(
        order=order,
        to_status=Order.Status.PLACED,
        message=message,
        data={"job_id": job_id, "cj_status": cj_status},
        cj_order_id=cj_order_id or order.cj_order_id,
        cj_status=cj_status,
        last_cj_response={"orderId": cj_order_id, "orderStatus": cj_status},
    )


@transaction.atomic
def order_apply_cj_update(
    *,
    order_number: str | None = None,
    cj_order_id: str | None = None,
    cj_status: str | None = None,
    logistic_name: str | None = None,
    tracking_number: str | None = None,
    tracking_url: str | None = None,
    source: str,
    data: dict[str, Any] | None = None,
) -> Order | None:
    """Apply what CJ says about an order (webhook or status check): CJ id, status, tracking.

    Moves that the status machine does not allow (a late message) are recorded nowhere and change
    nothing. Returns None when no order matches."""
    orders = Order.objects.select_for_update()
    order = None
    if order_number:
        order = orders.filter(number=order_number).first()
    if order is None and cj_order_id:
        order = orders.filter(cj_order_id=cj_order_id).first()
    if order is None:
        return None
    to_status = CJ_STATUSES.get((cj_status or "").upper(), order.status)
    if to_status != order.status and not order.can_move_to(to_status):
        # A late or out-of-order message (e.g. UNSHIPPED after SHIPPED): it changes nothing.
        logger.info(
            "orders.cj_update.stale",
            extra={"order": order.number, "status": order.status, "cj_status": cj_status, "source": source},
        )
        return order
    fields: dict[str, Any] = {}
    if cj_order_id and cj_order_id != order.cj_order_id:
        fields["cj_order_id"] = cj_order_id
    if cj_status and cj_status != order.cj_status:
        fields["cj_status"] = cj_status
    if tracking_number and tracking_number != order.tracking_number:
        fields["tracking_number"] = tracking_number
    if tracking_url and tracking_url != order.tracking_url:
        fields["tracking_url"] = tracking_url
    if logistic_name and logistic_name != order.logistic_name:
        fields["logistic_name"] = logistic_name
    if to_status == order.status and not fields:
        return order
    details = ", ".join(f"{name}={value}" for name, value in fields.items())
    return order_transition(
        order=order,
        to_status=to_status,
        message=f"CJ {source}: {details or to_status}",
        data={"source": source, **(data or {})},
        last_cj_response=data or fields,
        **fields,
    )


# CJ trackingStatus (CONTRACT §9.5): 12 delivered; 1-11 on its way; 0 nothing yet; 13/14 problems.
TRACKING_DELIVERED = 12
TRACKING_IN_TRANSIT = range(1, 12)


@transaction.atomic
def order_apply_tracking(
    *,
    cj_order_id: str,
    tracking_number: str,
    tracking_url: str | None,
    tracking_status: int,
    logistic_name: str | None = None,
    events: list[dict[str, Any]] | None = None,
) -> Order | None:
    """Apply a LOGISTIC message: tracking number and URL, and `shipped` / `delivered` by CJ's
    trackingStatus, with a timeline entry. Returns None when no order has this CJ id."""
    order = Order.objects.select_for_update().filter(cj_order_id=cj_order_id).first()
    if order is None:
        return None
    to_status = order.status
    if tracking_status == TRACKING_DELIVERED:
        to_status = Order.Status.DELIVERED
    elif tracking_status in TRACKING_IN_TRANSIT and order.status == Order.Status.PLACED:
        to_status = Order.Status.SHIPPED
    latest = (events or [])[-1:] or [{}]
    fields: dict[str, Any] = {"tracking_number": tracking_number or order.tracking_number}
    if tracking_url:
        fields["tracking_url"] = tracking_url
    if logistic_name:
        fields["logistic_name"] = logistic_name
    return order_transition(
        order=order,
        to_status=to_status if order.can_move_to(to_status) else order.status,
        message=f"Tracking {tracking_number}: status {tracking_status} {latest[0].get('activity', '')}".strip(),
        data={"source": "webhook", "tracking_status": tracking_status, "events": events or []},
        **fields,
    )


@transaction.atomic
def order_record_split(*, cj_order_id: str, split: dict[str, Any]) -> Order | None:
    """Record an ORDERSPLIT message on the order's timeline (CJ split it into several parcels)."""
    order = Order.objects.select_for_update().filter(cj_order_id=cj_order_id).first()
    if order is None:
        return None
    parts = split.get("splitOrderList") or []
    return order_transition(
        order=order,
        to_status=order.status,
        message=f"CJ split the order into {len(parts)} parts.",
        data={"source": "webhook", "split": split},
    )


def order_sync_cj_status(*, order_id: int) -> Order | None:
    """Ask CJ for a placed order's status (a webhook may have been missed) and apply it."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.status not in (Order.Status.PLACED, Order.Status.SHIPPED):
        return order
    detail: OrderDetail = get_client().get_order(order_id=order.cj_order_id or order.number)
    Order.objects.filter(pk=order_id).update(cj_checked_at=timezone.now())
    return order_apply_cj_update(
        order_number=order.number,
        cj_order_id=detail.cj_order_id,
        cj_status=detail.status,
        logistic_name=detail.logistic_name,
        tracking_number=detail.track_number,
        tracking_url=detail.tracking_url,
        source="status check",
    )


def orders_sweep() -> dict[str, int]:
    """Re-enqueue orders stuck in pending/forwarding (their enqueue was lost, e.g. Redis was
    down) and enqueue a CJ status check for placed orders that have not moved for a while."""
    from orders.jobs import order_forward_to_cj_job, order_sync_cj_status_job

    now = timezone.now()
    stuck = Order.objects.filter(
        status__in=(Order.Status.PENDING, Order.Status.FORWARDING),
        status_changed_at__lt=now - timedelta(seconds=settings.ORDERS_STUCK_AFTER_SECONDS),
    ).values_list("pk", flat=True)
    quiet_since = now - timedelta(seconds=settings.ORDERS_STATUS_CHECK_AFTER_SECONDS)
    quiet = (
        Order.objects.filter(status__in=(Order.Status.PLACED, Order.Status.SHIPPED), status_changed_at__lt=quiet_since)
        .filter(Q(cj_checked_at__isnull=True) | Q(cj_checked_at__lt=quiet_since))
        .order_by("cj_checked_at", "pk")
        .values_list("pk", flat=True)[: settings.ORDERS_STATUS_CHECK_BATCH]
    )
    counts = {"reforwarded": 0, "status_checks": 0}
    for order_id in stuck:
        enqueue(CREATE_ORDER, order_forward_to_cj_job, order_id, job_id=f"order-forward-{order_id}")
        counts["reforwarded"] += 1
    for order_id in quiet:
        enqueue(CREATE_ORDER, order_sync_cj_status_job, order_id, job_id=f"order-status-{order_id}")
        counts["status_checks"] += 1
    logger.info("orders.sweep.done", extra=counts)
    return counts
