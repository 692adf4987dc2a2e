"""The buyer's timeline: a sentence per status reached (orders/timeline.py), never the technical
messages staff read in the admin."""

import pytest

from orders.models import Order, OrderEvent
from orders.services import order_transition
from orders.timeline import BUYER_SENTENCES, buyer_sentence
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db


def _walk_to_shipped(order: Order) -> None:
    OrderEvent.objects.create(order=order, to_status="pending", message="Order accepted; stock reserved.")
    order_transition(order=order, to_status="forwarding", message="Forwarding job order-forward-1 started.")
    order_transition(order=order, to_status="placed", message="CJ accepted createOrderV2: cj_order_id=CJ123")
    order_transition(order=order, to_status="placed", message="CJ split the order into 2 parts.")  # a note
    order_transition(
        order=order,
        to_status="shipped",
        message="CJ webhook: cj_status=SHIPPED, trackNumber=1Z999AA10123456784",
        tracking_number="1Z999AA10123456784",
        tracking_url="https://track.example.test/1Z999AA10123456784",
    )


def test_the_buyer_reads_a_sentence_per_status_and_staff_keep_the_technical_text(api_client):
    order = OrderFactory()
    _walk_to_shipped(order)

    body = api_client.get(f"/api/orders/{order.number}", HTTP_X_ORDER_TOKEN=order.access_token).json()

    assert [(entry["status"], entry["message"]) for entry in body["timeline"]] == [
        ("pending", "We received your order."),
        ("forwarding", "We are passing your order to our warehouse."),
        ("placed", "Your order is being prepared at our warehouse."),
        ("shipped", "Your order has shipped: tracking 1Z999AA10123456784."),
    ]
    assert body["tracking"] == {
        "number": "1Z999AA10123456784",
        "url": "https://track.example.test/1Z999AA10123456784",
    }
    technical = list(order.events.values_list("message", flat=True))
    assert "CJ webhook: cj_status=SHIPPED, trackNumber=1Z999AA10123456784" in technical
    assert "CJ split the order into 2 parts." in technical
    for text in technical:
        assert text not in str(body)


def test_every_status_has_a_sentence():
    assert set(Order.Status.values) <= set(BUYER_SENTENCES)
    assert BUYER_SENTENCES[Order.Status.DELIVERED] == "Your order has been delivered."


def test_shipped_without_tracking_and_an_unknown_status_stay_plain():
    order = OrderFactory.build(tracking_number="")

    assert buyer_sentence(status="shipped", order=order) == "Your order has shipped."
    # a status added later without its sentence: the label, never the staff message
    assert buyer_sentence(status="on_hold", order=order) == "Your order is now: on hold."
