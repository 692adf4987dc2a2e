"""The order page's buttons in the admin (`config.admin_object_actions`): Retry, Cancel, Refund
buyer, and which orders may be deleted. Each button calls one service; features append theirs to
`ORDER_OBJECT_ACTIONS`."""

from django.http import HttpRequest

from config.admin_object_actions import ObjectAction
from config.users import admin_request_user
from orders import payment_flow, services
from orders.models import Order


def _retry(request: HttpRequest, order: Order) -> str:
    services.order_retry_forwarding(order_id=order.pk, staff_user=admin_request_user(request))
    return f"Order {order.number} is queued for forwarding to CJ again; its stock is reserved."


def _cancel(request: HttpRequest, order: Order) -> str:
    held_stock = order.is_reserving_stock
    services.order_cancel(order_id=order.pk, staff_user=admin_request_user(request))
    stock = "its reserved stock is released" if held_stock else "its stock was already released when it failed"
    return f"Order {order.number} is cancelled; {stock}."


def _refund(request: HttpRequest, order: Order) -> str:
    refunded = payment_flow.order_refund(
        order_id=order.pk, staff_user=admin_request_user(request), reason="Refund buyer"
    )
    return f"Order {order.number}: {refunded.refunded_amount} {refunded.currency} refunded to the buyer."


ORDER_OBJECT_ACTIONS: list[ObjectAction] = [
    ObjectAction(
        name="retry",
        label="Retry forwarding to CJ",
        run=_retry,
        is_available=lambda order: order.status == Order.Status.FAILED,
        help_text="Reserve the stock again and send the order to CJ once more.",
    ),
    ObjectAction(
        name="cancel",
        label="Cancel order",
        run=_cancel,
        is_available=lambda order: (
            order.status in (Order.Status.AWAITING_PAYMENT, Order.Status.PAID, Order.Status.FAILED)
        ),
        style="danger",
        help_text="Only for orders CJ has not been asked to take (unpaid, paid and waiting, or failed); releases "
        "the stock and refunds a paid buyer.",
    ),
    ObjectAction(
        name="refund",
        label="Refund buyer",
        run=_refund,
        is_available=lambda order: (
            bool(order.payment_intent_id and order.paid_amount and not order.refunded_amount)
            and (order.status in payment_flow.REFUNDABLE_STATUSES or order.payment_held)
        ),
        style="danger",
        help_text="Give the buyer their whole Stripe payment back (cancelled, failed, expired or held payments).",
    ),
]


def order_is_deletable(order: Order) -> bool:
    """Only a cancelled order that never reached CJ may be deleted: any other is an accepted order
    (or CJ's), and deleting it would lose it."""
    return order.status == Order.Status.CANCELLED and not order.cj_order_id
