"""Applying what CJ says about an order: status and tracking from webhooks, parcel splits, and
the status check that catches a missed webhook.

A late or out-of-order message never moves an order backwards: the status machine
(`Order.can_move_to`) decides, and a refused move changes nothing. A tracking URL reaches the buyer,
so only a well-formed http(s) URL is kept; any other (`javascript:`, `data:`) is dropped with a
note on the order's timeline.
"""

import logging
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from integrations.cj.client import get_client
from integrations.cj.types import OrderDetail
from orders.models import Order
from orders.services import order_transition

logger = logging.getLogger(__name__)

_TRACKING_URL = URLValidator(schemes=["http", "https"])
_TRACKING_URL_MAX_LENGTH = Order._meta.get_field("tracking_url").max_length or 0
TRACKING_URL_DROPPED = "tracking URL dropped: not an http(s) URL"


def _tracking_url_checked(url: str | None, *, order: Order) -> tuple[str | None, str]:
    """(url, note): the URL when it is a well-formed http(s) URL that fits the column; otherwise
    None and the note for the timeline."""
    if not url:
        return None, ""
    try:
        _TRACKING_URL(url)
    except ValidationError:
        pass
    else:
        if len(url) <= _TRACKING_URL_MAX_LENGTH:
            return url, ""
    logger.warning(
        "orders.cj_update.tracking_url_dropped", extra={"order": order.number, "scheme": urlsplit(url).scheme[:20]}
    )
    return None, TRACKING_URL_DROPPED


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
    nothing. A tracking URL that is not http(s) is dropped with a timeline note. Returns None when
    no order matches."""
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
    tracking_url, note = _tracking_url_checked(tracking_url, order=order)
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
    if to_status == order.status and not fields and not note:
        return order
    details = ", ".join(f"{name}={value}" for name, value in fields.items())
    summary = "; ".join(part for part in (details or (to_status if to_status != order.status else ""), note) if part)
    return order_transition(
        order=order,
        to_status=to_status,
        message=f"CJ {source}: {summary}",
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
    trackingStatus, with a timeline entry (which notes a dropped, not http(s), tracking URL).
    Returns None when no order has this CJ id."""
    order = Order.objects.select_for_update().filter(cj_order_id=cj_order_id).first()
    if order is None:
        return None
    tracking_url, note = _tracking_url_checked(tracking_url, order=order)
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
    message = f"Tracking {tracking_number}: status {tracking_status} {latest[0].get('activity', '')}".strip()
    return order_transition(
        order=order,
        to_status=to_status if order.can_move_to(to_status) else order.status,
        message=f"{message}; {note}" if note else message,
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
