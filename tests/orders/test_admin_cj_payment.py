"""The order page's "Payment at CJ" part and the permission-checked "Approve payment at CJ" action."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from config.dashboard import dashboard_panels
from config.queues import CREATE_ORDER, get_queue
from orders.cj_balance import SNAPSHOT_KEY
from orders.models import Order
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db


def _staff(client, username: str, *codenames: str):
    user = get_user_model().objects.create_user(username=username, password="pw-staff-1", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="orders", codename__in=codenames))
    client.force_login(user)
    return user


def _held(**fields) -> Order:
    return OrderFactory(
        status=Order.Status.PLACED, cj_payment_status="held", cj_order_amount=Decimal("14.20"), **fields
    )


def _approve(client, *orders: Order):
    return client.post(
        "/admin/orders/order/",
        {"action": "approve_cj_payment", "_selected_action": [order.pk for order in orders]},
        follow=True,
    )


def test_order_page_shows_what_the_buyer_and_cj_were_paid_and_the_margin(client):
    _staff(client, "viewer", "view_order")
    order = OrderFactory(
        status=Order.Status.PLACED,
        cj_payment_status="paid",
        cj_order_amount=Decimal("8.91"),
        cj_paid_amount=Decimal("8.91"),
        cj_paid_at=datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
    )

    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()

    assert "Payment at CJ" in page
    assert "12.90 USD" in page  # paid by the buyer
    assert "Paid at CJ" in page and "8.91" in page
    assert "3.99 USD, 30.9 % of what the buyer paid" in page


def test_margin_of_an_unpaid_order_says_it_is_cjs_amount(client):
    _staff(client, "viewer", "view_order")
    order = _held()

    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()

    assert "-1.30 USD, -10.1 % of what the buyer paid (CJ&#x27;s amount, not paid yet)" in page


def test_approve_action_makes_held_orders_due_and_queues_their_payment(client, django_capture_on_commit_callbacks):
    user = _staff(client, "payer", "view_order", "approve_cj_payment")
    held, paid = _held(), OrderFactory(status=Order.Status.PLACED, cj_payment_status="paid")

    assert "approve_cj_payment" in client.get("/admin/orders/order/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _approve(client, held, paid)

    assert [str(message) for message in response.context["messages"]] == [
        "1 order(s) approved: their payment at CJ is queued; the timeline shows when CJ is paid.",
        "1 order(s) were not held for approval and were left unchanged.",
    ]
    held.refresh_from_db()
    assert (held.cj_payment_status, held.cj_payment_approved_at is not None) == ("due", True)
    assert list(held.events.values_list("message", "staff_user")) == [("CJ payment approved by staff.", user.pk)]
    assert get_queue(CREATE_ORDER).job_ids == [f"order-cj-pay-{held.pk}"]
    assert Order.objects.get(pk=paid.pk).cj_payment_status == "paid"


@pytest.mark.parametrize("codenames", [("view_order",), ("view_order", "change_order")])
def test_approve_action_needs_its_own_permission(client, codenames, django_capture_on_commit_callbacks):
    _staff(client, "clerk", *codenames)
    held = _held()

    changelist = client.get("/admin/orders/order/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        _approve(client, held)

    assert "approve_cj_payment" not in changelist
    held.refresh_from_db()
    assert (held.cj_payment_status, held.cj_payment_approved_at) == ("held", None)
    assert get_queue(CREATE_ORDER).job_ids == []


def test_changelist_filters_by_cj_payment_status(client):
    _staff(client, "viewer", "view_order")
    held, paid = _held(), OrderFactory(status=Order.Status.PLACED, cj_payment_status="paid")

    page = client.get("/admin/orders/order/?cj_payment_status__exact=held").content.decode()

    assert held.number in page and paid.number not in page


def test_dashboard_panel_counts_held_and_waiting_orders_and_shows_the_balance(client):
    user = _staff(client, "runner", "view_order", "change_order")
    _held(), _held(), OrderFactory(status=Order.Status.PLACED, cj_payment_status="waiting_balance")
    get_queue(CREATE_ORDER).connection.set(
        SNAPSHOT_KEY,
        '{"amount": "42.50", "frozen": "0.00", "bonus": "0.00", "checked_at": "2026-12-02T01:00:00+00:00"}',
    )
    request = RequestFactory().get("/admin/")
    request.user = user

    (panel,) = [panel for panel in dashboard_panels(request) if panel.key == "orders-cj-payment"]

    assert [(item.label, item.value, item.badge, item.value_badge) for item in panel.items] == [
        ("Held for staff approval", 2, "warning", ""),
        ("Waiting for CJ balance", 1, "danger", ""),
        ("Due", 0, "", ""),
        ("CJ balance", "42.50 USD", "", "danger"),
    ]
    assert panel.items[3].hint == "checked 2026-12-02 01:00 UTC; alert below 100.00"
    assert "Payment at CJ" in client.get("/admin/").content.decode()
    user.user_permissions.remove(Permission.objects.get(codename="change_order"))
    viewer = get_user_model().objects.get(pk=user.pk)  # permissions cached on the instance
    request.user = viewer
    assert "orders-cj-payment" not in [panel.key for panel in dashboard_panels(request)]
