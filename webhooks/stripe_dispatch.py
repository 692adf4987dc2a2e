"""What each Stripe event type means for our orders: one handler per `type`, calling the payment
use cases of orders.payment_flow. A handler returns a short outcome for the event row and raises
`PayloadError` when the event cannot be applied at all (it fails at once, without retries).

The stored `params` are the event's `data.object` (the PaymentIntent).
"""

from collections.abc import Callable, Mapping
from typing import Any

from orders.payment_flow import order_payment_failed, order_payment_succeeded
from webhooks.dispatch import PayloadError
from webhooks.models import WebhookEvent


def _intent(event: WebhookEvent) -> Mapping[str, Any]:
    params = event.params
    if not isinstance(params, Mapping) or not isinstance(params.get("id"), str) or not params["id"]:
        raise PayloadError(f"{event.topic}: data.object is not a PaymentIntent with an id")
    return params


def handle_payment_intent_succeeded(event: WebhookEvent) -> str:
    intent = _intent(event)
    amount = intent.get("amount_received", intent.get("amount"))
    currency = intent.get("currency")
    if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(currency, str):
        raise PayloadError("payment_intent.succeeded: amount or currency missing")
    metadata = intent.get("metadata")
    number = metadata.get("order_number", "") if isinstance(metadata, Mapping) else ""
    order = order_payment_succeeded(
        payment_intent_id=intent["id"], amount=amount, currency=currency, order_number=str(number or "")
    )
    if order is None:
        return f"no order for {intent['id']}"
    held = ", payment held for staff" if order.payment_held else ""
    return f"order {order.number} is {order.status}{held}"


def handle_payment_intent_payment_failed(event: WebhookEvent) -> str:
    intent = _intent(event)
    error = intent.get("last_payment_error")
    error = error if isinstance(error, Mapping) else {}
    order = order_payment_failed(
        payment_intent_id=intent["id"],
        message=str(error.get("message") or "")[:300],
        code=str(error.get("code") or "")[:60],
    )
    return f"payment failure recorded on order {order.number}" if order else f"no order for {intent['id']}"


STRIPE_HANDLERS: dict[str, Callable[[WebhookEvent], str]] = {
    "payment_intent.succeeded": handle_payment_intent_succeeded,
    "payment_intent.payment_failed": handle_payment_intent_payment_failed,
}
# The event types we ask Stripe (or localstripe) to send.
STRIPE_EVENT_TYPES = tuple(STRIPE_HANDLERS)
