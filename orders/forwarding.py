"""Forwarding orders to CJ exactly once.

Our order number is CJ's `orderNumber` and the idempotency key: before creating, CJ is asked
whether the number exists, so a retry after a timeout never creates a second CJ order. CJ is
never called inside a database transaction. What CJ says afterwards is applied by
`orders.cj_updates`; lost work is recovered by `orders.sweeps`.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.cj.client import get_client
from integrations.cj.errors import CJDuplicateOrderError, CJError, CJNotFoundError, CJPermanentError
from integrations.cj.types import OrderLine, OrderRequest
from orders.models import Order, OrderEvent
from orders.services import order_event_add, order_fail, order_transition


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

    # CJ takes the units after this moment: its stock figures taken later count them.
    sent_at = timezone.now()
    try:
        created = client.create_order(order=request)
    except CJDuplicateOrderError:  # CJ already has this number: a concurrent or earlier attempt won.
        found = client.get_order(order_id=order.number)
        return _mark_placed(order_id, found.cj_order_id, found.status, "Found at CJ (duplicate number).", job_id)
    except CJPermanentError as error:
        return order_fail(
            order_id=order_id,
            reason=Order.FailureReason(error.reason),
            message=error.message,
            cj_response={"code": error.code, "message": error.message, "requestId": error.request_id},
        )
    return _mark_placed(order_id, created.cj_order_id or "", created.status, "Created at CJ.", job_id, sent_at)


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
def _mark_placed(
    order_id: int, cj_order_id: str, cj_status: str, message: str, job_id: str | None, sent_at: datetime | None = None
) -> Order:
    """`placed`, dated when we sent it (created now) or now (found at CJ, created at an unknown
    earlier moment: counting its units as ours a little longer under-sells, never oversells)."""
    order = Order.objects.select_for_update().get(pk=order_id)
    return order_transition(
        order=order,
        to_status=Order.Status.PLACED,
        message=message,
        data={"job_id": job_id, "cj_status": cj_status},
        cj_order_id=cj_order_id or order.cj_order_id,
        cj_status=cj_status,
        last_cj_response={"orderId": cj_order_id, "orderStatus": cj_status},
        placed_at=sent_at or timezone.now(),
    )


def order_forwarding_retry_note(
    *, order_id: int, error: CJError, attempt: int, retry_in_seconds: int | None, job_id: str | None = None
) -> OrderEvent | None:
    """Write on the timeline of an order being forwarded that CJ answered with an error worth
    retrying (attempt `attempt`, CJ's answer, when the next try comes), so that an order sitting
    in "Forwarding to CJ" shows why. `retry_in_seconds` None: no retry is left, the sweeper takes
    it up. Returns None (writes nothing) when the order is gone or no longer forwarding."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status not in Order.RESERVING_STATUSES:
            return None
        if retry_in_seconds is None:
            then = (
                "No retry left: the sweeper forwards it again once it has been waiting "
                f"{_duration(settings.ORDERS_STUCK_AFTER_SECONDS)}."
            )
        else:
            then = f"Next try in {_duration(retry_in_seconds)}." if retry_in_seconds else "Next try right away."
        return order_event_add(
            order=order,
            message=f"CJ did not take the order (attempt {attempt}): {_cj_answer(error)}. {then}",
            data={
                "job_id": job_id,
                "attempt": attempt,
                "retry_in_seconds": retry_in_seconds,
                "error": type(error).__name__,
                "cj_code": error.code,
                "cj_message": error.message[:200],
                "cj_request_id": error.request_id,
                "endpoint": error.endpoint,
            },
        )


def _cj_answer(error: CJError) -> str:
    where = f" on {error.endpoint}" if error.endpoint else ""
    code = f" (code {error.code})" if error.code is not None else ""
    return f"{error.message[:200]}{code}{where}"


def _duration(seconds: int | float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600)} h"
