"""What each CJ message type means for our data: one handler per `type`, calling domain services.

Handlers return a short outcome for the event row and raise `PayloadError` when the message
cannot be applied at all (a permanent failure: retrying would not help), which includes a cost,
weight or stock figure that is not a finite number in its sane range. Any other exception is
treated as transient by the caller and retried. The domain services invalidate the caches of the
products they touch.
"""

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from catalog.services import product_deactivate, product_update_from_cj, variant_update_from_cj
from catalog.stock import StockFigure, variants_cj_stock_apply
from integrations.cj.coercion import (
    MAX_COUNT,
    ImplausibleValue,
    optional_str,
    to_amount,
    to_count,
    to_datetime,
    to_int,
    to_str,
    to_weight,
)
from orders.cj_updates import order_apply_cj_update, order_apply_tracking, order_record_split
from webhooks.models import WebhookEvent

# productStatus: current docs 2 = off sale, 3 = on sale; an older version 0 deleted, 5 off sale.
PRODUCT_ON_SALE = {3}
PRODUCT_OFF_SALE = {0, 2, 5}
# Keys under which a STOCK message might date its figures (none in the documented samples).
STOCK_TIME_KEYS = ("updateTime", "updateDate", "timestamp", "time", "createTime")


class PayloadError(ValueError):
    """The message's params cannot be applied (missing ids, wrong shapes): a permanent failure."""


def _params(event: WebhookEvent) -> Mapping[str, Any]:
    if not isinstance(event.params, Mapping):
        raise PayloadError(f"{event.topic} params must be an object")
    return event.params


def _required_id(params: Mapping[str, Any], key: str) -> str:
    value = optional_str(params.get(key))
    if value is None:
        raise PayloadError(f"params.{key} is missing")
    return value


def _images(value: Any) -> list[str] | None:
    if isinstance(value, list):
        images = [str(image) for image in value if image]
    elif isinstance(value, str) and value.strip().startswith("["):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = []
        images = [str(image) for image in decoded if image] if isinstance(decoded, list) else []
    elif isinstance(value, str) and value.strip():
        images = [value.strip()]
    else:
        images = []
    return images or None


def _track_events(value: Any) -> list[dict[str, Any]]:
    """`logisticsTrackEvents`: documented as a JSON string holding an array; accept an array too."""
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def handle_product(event: WebhookEvent) -> str:
    params = _params(event)
    pid = _required_id(params, "pid")
    if event.message_type == "DELETE":
        product = product_deactivate(cj_pid=pid)
        return f"product {pid} deactivated" if product else f"product {pid} not carried"
    status = to_int(params.get("productStatus"), default=-1)
    is_on_sale = True if status in PRODUCT_ON_SALE else False if status in PRODUCT_OFF_SALE else None
    name = optional_str(params.get("productNameEn")) or optional_str(params.get("productName"))
    description = params.get("productDescription")
    product = product_update_from_cj(
        cj_pid=pid,
        name=name,
        description=to_str(description) if description is not None else None,
        images=_images(params.get("productImage")),
        is_on_sale=is_on_sale,
    )
    return f"product {pid} updated" if product else f"product {pid} not carried"


def handle_variant(event: WebhookEvent) -> str:
    params = _params(event)
    vid = _required_id(params, "vid")
    if event.message_type == "DELETE":
        is_on_sale: bool | None = False
    else:
        status = params.get("variantStatus")
        is_on_sale = None if status is None else to_int(status) == 1
    try:
        cost = to_amount(params.get("variantSellPrice"), field="variantSellPrice")
        weight = to_weight(params.get("variantWeight"), field="variantWeight")
    except ImplausibleValue as error:
        raise PayloadError(f"variant {vid}: {error}") from error
    variant = variant_update_from_cj(
        cj_vid=vid,
        supplier_cost=cost,
        is_on_sale=is_on_sale,
        sku=optional_str(params.get("variantSku")),
        weight_grams=weight,
    )
    return f"variant {vid} updated" if variant else f"variant {vid} not carried"


def _stock_rows(params: Any) -> dict[str, list[Mapping[str, Any]]]:
    """STOCK params: a map vid -> warehouse rows (CONTRACT §9.5, provisional); a flat list is accepted too."""
    rows_by_vid: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    if isinstance(params, Mapping):
        for vid, rows in params.items():
            listed = rows if isinstance(rows, list) else [rows]
            rows_by_vid[str(vid)].extend(row for row in listed if isinstance(row, Mapping))
    elif isinstance(params, list):
        for row in params:
            if isinstance(row, Mapping) and optional_str(row.get("vid")):
                rows_by_vid[to_str(row["vid"])].append(row)
    return {vid: rows for vid, rows in rows_by_vid.items() if rows}


def _stock_as_of(rows: list[Mapping[str, Any]], received_at: datetime) -> datetime:
    """The message's own time for these figures when CJ sends one, else when we received it."""
    times = [to_datetime(row.get(key)) for row in rows for key in STOCK_TIME_KEYS if row.get(key) is not None]
    known = [moment for moment in times if moment is not None]
    return max(known) if known else received_at


def stock_figures(event: WebhookEvent) -> list[StockFigure]:
    """CJ's figures in a STOCK message, one per vid (the sum of its warehouses). Raises
    PayloadError when the message holds no rows or a figure that is not a whole count: the event
    fails whole."""
    rows_by_vid = _stock_rows(event.params)
    if not rows_by_vid:
        raise PayloadError("STOCK params hold no warehouse rows")
    figures = []
    for vid, rows in sorted(rows_by_vid.items()):
        if any(row.get("storageNum") is None for row in rows):
            raise PayloadError(f"STOCK row of variant {vid} has no storageNum")
        try:
            total = sum(to_count(row.get("storageNum"), field="storageNum") for row in rows)
        except ImplausibleValue as error:
            raise PayloadError(f"STOCK of variant {vid}: {error}") from error
        # several warehouses' sum stays a storable integer
        figures.append(
            StockFigure(cj_vid=vid, stock=min(total, MAX_COUNT), taken_at=_stock_as_of(rows, event.received_at))
        )
    return figures


def stock_outcome(applied: int, skipped: int) -> str:
    return f"stock of {applied} variant(s) set, {skipped} unchanged, not carried or older than ours"


def stock_events_apply(events: Sequence[WebhookEvent]) -> dict[int, str]:
    """Apply the figures of many STOCK events at once (set-based, `catalog.stock`); returns each
    event's outcome by id. Per variant the latest figure wins (a tie: the later event); the others
    count as unchanged. Parse the events with `stock_figures` first: this one raises only
    transient errors."""
    figures = {event.pk: stock_figures(event) for event in events}
    winners: dict[str, tuple[datetime, int]] = {}
    for event in events:
        for figure in figures[event.pk]:
            if figure.cj_vid not in winners or figure.taken_at >= winners[figure.cj_vid][0]:
                winners[figure.cj_vid] = (figure.taken_at, event.pk)
    applied = variants_cj_stock_apply(figures=[figure for event in events for figure in figures[event.pk]])
    outcomes = {}
    for event in events:
        won = sum(1 for f in figures[event.pk] if f.cj_vid in applied and winners[f.cj_vid][1] == event.pk)
        outcomes[event.pk] = stock_outcome(won, len(figures[event.pk]) - won)
    return outcomes


def handle_stock(event: WebhookEvent) -> str:
    return stock_events_apply([event])[event.pk]


def handle_order(event: WebhookEvent) -> str:
    params = _params(event)
    number = optional_str(params.get("orderNumber")) or optional_str(params.get("orderNum"))
    cj_order_id = optional_str(params.get("cjOrderId"))
    if number is None and cj_order_id is None:
        raise PayloadError("ORDER params carry neither orderNumber nor cjOrderId")
    source = "webhook order connected" if event.message_type == "ORDER_CONNNECTED" else "webhook"
    order = order_apply_cj_update(
        order_number=number,
        cj_order_id=cj_order_id,
        cj_status=optional_str(params.get("orderStatus")),
        logistic_name=optional_str(params.get("logisticName")),
        tracking_number=optional_str(params.get("trackNumber")),
        tracking_url=optional_str(params.get("trackingUrl")),
        source=source,
        data={"message_id": event.message_id, "message_type": event.message_type, "params": dict(params)},
    )
    label = number or cj_order_id
    return f"order {label} is {order.status}" if order else f"no order {label}"


def handle_order_split(event: WebhookEvent) -> str:
    params = _params(event)
    cj_order_id = _required_id(params, "originalOrderId")
    order = order_record_split(cj_order_id=cj_order_id, split=dict(params))
    return f"split recorded on order {order.number}" if order else f"no order with CJ id {cj_order_id}"


def handle_logistic(event: WebhookEvent) -> str:
    params = _params(event)
    cj_order_id = _required_id(params, "orderId")
    order = order_apply_tracking(
        cj_order_id=cj_order_id,
        tracking_number=to_str(params.get("trackingNumber")),
        tracking_url=optional_str(params.get("trackingUrl")),
        tracking_status=to_int(params.get("trackingStatus")),
        logistic_name=optional_str(params.get("logisticName")),
        events=_track_events(params.get("logisticsTrackEvents")),
    )
    return f"tracking applied to order {order.number} ({order.status})" if order else f"no order {cj_order_id}"


HANDLERS: dict[str, Callable[[WebhookEvent], str]] = {
    "PRODUCT": handle_product,
    "VARIANT": handle_variant,
    "STOCK": handle_stock,
    "ORDER": handle_order,
    "ORDERSPLIT": handle_order_split,
    "LOGISTIC": handle_logistic,
}
