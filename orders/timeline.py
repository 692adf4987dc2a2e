"""The buyer's timeline: one sentence per status the order reached, never our technical notes.

Staff read `OrderEvent.message` (what happened, with CJ's codes) in the admin; the buyer reads
`BUYER_SENTENCES[event.to_status]`. A status added later adds its sentence here; until it has
one, the buyer reads the status's label in a plain sentence, never the technical message.
Events that changed no status (retries, CJ's notes) are not shown to the buyer.
"""

from typing import Any

from orders.models import Order, OrderEvent

# Keyed by status value. `{tracking}` is filled with " tracking <number>" when the order has one.
BUYER_SENTENCES: dict[str, str] = {
    "awaiting_payment": "We are waiting for your payment.",
    Order.Status.PENDING.value: "We received your order.",
    "paid": "We received your payment and your order.",
    Order.Status.FORWARDING.value: "We are passing your order to our warehouse.",
    Order.Status.PLACED.value: "Your order is being prepared at our warehouse.",
    Order.Status.SHIPPED.value: "Your order has shipped{tracking}.",
    Order.Status.DELIVERED.value: "Your order has been delivered.",
    Order.Status.FAILED.value: "We could not place your order; we will contact you by email.",
    Order.Status.CANCELLED.value: "Your order was cancelled.",
    "expired": "Your order was cancelled because it was not paid in time.",
    "refunded": "Your payment was refunded.",
}


def buyer_sentence(*, status: str, order: Order) -> str:
    sentence = BUYER_SENTENCES.get(status)
    if sentence is None:
        labels: dict[Any, str] = dict(Order.Status.choices)
        return f"Your order is now: {labels.get(status, status.replace('_', ' '))}."
    tracking = f": tracking {order.tracking_number}" if order.tracking_number else ""
    return sentence.format(tracking=tracking)


def buyer_timeline(order: Order, events: list[OrderEvent]) -> list[dict[str, Any]]:
    """The order's status changes, oldest first, as `{"at", "status", "message"}`."""
    return [
        {"at": e.created_at, "status": e.to_status, "message": buyer_sentence(status=e.to_status, order=order)}
        for e in events
        if e.to_status
    ]
