"""Applying what CJ says: the status machine, tracking, parcel splits, and the status check
against the simulator."""

import pytest
from django.utils import timezone

from config.queues import CREATE_ORDER
from orders.cj_updates import order_apply_cj_update, order_apply_tracking, order_record_split, order_sync_cj_status
from orders.models import Order
from tests.orders.conftest import place_order
from tests.orders.factories import OrderFactory


@pytest.mark.django_db
def test_cj_updates_follow_the_status_machine():
    order = OrderFactory(status=Order.Status.PLACED, cj_order_id="CJ-1")

    order_apply_cj_update(cj_order_id="CJ-1", cj_status="SHIPPED", tracking_number="TN1", source="webhook")
    order_apply_cj_update(cj_order_id="CJ-1", cj_status="UNSHIPPED", source="webhook")  # late message

    order.refresh_from_db()
    assert (order.status, order.tracking_number, order.cj_status) == ("shipped", "TN1", "SHIPPED")
    assert list(order.events.values_list("from_status", "to_status")) == [("placed", "shipped")]


@pytest.mark.django_db
def test_tracking_delivered_moves_order_to_delivered_with_timeline():
    order = OrderFactory(status=Order.Status.PLACED, cj_order_id="CJ-2")

    order_apply_tracking(cj_order_id="CJ-2", tracking_number="TN2", tracking_url=None, tracking_status=5)
    order_apply_tracking(cj_order_id="CJ-2", tracking_number="TN2", tracking_url="https://t.example/TN2",
                         tracking_status=12)  # fmt: skip

    order.refresh_from_db()
    assert (order.status, order.tracking_number, order.tracking_url) == ("delivered", "TN2", "https://t.example/TN2")
    assert list(order.events.values_list("from_status", "to_status")) == [
        ("placed", "shipped"),
        ("shipped", "delivered"),
    ]


@pytest.mark.django_db
def test_unknown_cj_order_is_ignored():
    assert order_apply_cj_update(cj_order_id="nope", cj_status="SHIPPED", source="webhook") is None
    assert order_apply_tracking(cj_order_id="nope", tracking_number="x", tracking_url=None, tracking_status=1) is None


@pytest.mark.django_db
def test_split_is_recorded_on_the_timeline_without_a_status_change():
    order = OrderFactory(status=Order.Status.PLACED, cj_order_id="CJ-3")
    split = {"originalOrderId": "CJ-3", "splitOrderList": [{"orderId": "CJ-3a"}, {"orderId": "CJ-3b"}]}

    order_record_split(cj_order_id="CJ-3", split=split)

    event = order.events.get()
    assert (event.from_status, event.to_status, event.message) == ("placed", "", "CJ split the order into 2 parts.")
    assert event.data == {"source": "webhook", "split": split, "request_id": None}
    assert order_record_split(cj_order_id="nope", split=split) is None


@pytest.mark.django_db(transaction=True)
def test_status_check_applies_what_cj_says(sim_variants, cj_simulator, run_worker):
    # given: an order placed at CJ, then shipped there without a webhook reaching us
    order = place_order(sim_variants[0])
    run_worker(CREATE_ORDER)
    order.refresh_from_db()
    cj_simulator.advance_order(order.cj_order_id, "SHIPPED")
    lookups = cj_simulator.calls("shopping/order/getOrderDetail")
    before = timezone.now()

    # when
    order_sync_cj_status(order_id=order.pk)

    # then
    order.refresh_from_db()
    assert (order.status, order.cj_status) == ("shipped", "SHIPPED")
    assert order.tracking_number
    assert order.cj_checked_at >= before
    assert cj_simulator.calls("shopping/order/getOrderDetail") == lookups + 1
    assert order.events.order_by("pk").last().message.startswith("CJ status check: ")


@pytest.mark.django_db(transaction=True)
def test_status_check_leaves_orders_cj_does_not_hold_without_calling_cj(cj_simulator):
    pending = OrderFactory(status=Order.Status.PAID)

    assert order_sync_cj_status(order_id=pending.pk) == pending
    assert order_sync_cj_status(order_id=999_999) is None

    pending.refresh_from_db()
    assert pending.cj_checked_at is None
    assert cj_simulator.calls("shopping/order/getOrderDetail") == 0


HOSTILE_URLS = [
    "javascript:alert(document.cookie)",
    "JavaScript://t.example/%0Aalert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "ftp://t.example/TN",
    "//t.example/TN",
    "https://t.example/" + "x" * 500,
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_an_order_message_with_a_tracking_url_that_is_not_http_drops_it_with_a_timeline_note(url):
    order = OrderFactory(status=Order.Status.PLACED, cj_order_id="CJ-7", tracking_url="https://t.example/old")

    order_apply_cj_update(
        cj_order_id="CJ-7", cj_status="SHIPPED", tracking_number="TN7", tracking_url=url, source="webhook"
    )

    order.refresh_from_db()
    assert (order.status, order.tracking_number, order.tracking_url) == ("shipped", "TN7", "https://t.example/old")
    assert list(order.events.values_list("to_status", "message")) == [
        ("shipped", "CJ webhook: cj_status=SHIPPED, tracking_number=TN7; tracking URL dropped: not an http(s) URL")
    ]


@pytest.mark.django_db
def test_a_dropped_tracking_url_alone_still_leaves_a_note():
    order = OrderFactory(status=Order.Status.SHIPPED, cj_order_id="CJ-8", cj_status="SHIPPED")

    order_apply_cj_update(cj_order_id="CJ-8", tracking_url="javascript:alert(1)", source="status check")

    order.refresh_from_db()
    assert order.tracking_url == ""
    assert list(order.events.values_list("to_status", "message")) == [
        ("", "CJ status check: tracking URL dropped: not an http(s) URL")
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_logistic_message_with_a_tracking_url_that_is_not_http_drops_it_with_a_timeline_note(url):
    order = OrderFactory(status=Order.Status.PLACED, cj_order_id="CJ-9")

    order_apply_tracking(cj_order_id="CJ-9", tracking_number="TN9", tracking_url=url, tracking_status=5)

    order.refresh_from_db()
    assert (order.status, order.tracking_number, order.tracking_url) == ("shipped", "TN9", "")
    assert list(order.events.values_list("to_status", "message")) == [
        ("shipped", "Tracking TN9: status 5; tracking URL dropped: not an http(s) URL")
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["https://t.example/TN10?lang=en", "http://track.example.test/TN10"])
def test_http_and_https_tracking_urls_are_kept(url):
    order = OrderFactory(status=Order.Status.PLACED, cj_order_id="CJ-10")

    order_apply_tracking(cj_order_id="CJ-10", tracking_number="TN10", tracking_url=url, tracking_status=5)

    order.refresh_from_db()
    assert order.tracking_url == url
    assert list(order.events.values_list("message", flat=True)) == ["Tracking TN10: status 5"]
