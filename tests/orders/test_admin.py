"""The orders back office: list filters, actions, CSV, the customer page and the dashboard."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.models import Variant
from orders.models import Order
from tests.catalog.factories import VariantFactory
from tests.orders.factories import OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser(username="boss", email="", password="pw-boss-1")
    client.force_login(user)
    return client


def test_changelist_filters_by_tracking_and_status(admin_client):
    shipped = OrderFactory(status=Order.Status.SHIPPED, tracking_number="TRK123")
    pending = OrderFactory()

    with_tracking = admin_client.get("/admin/orders/order/?has_tracking=yes").content.decode()
    failed_only = admin_client.get("/admin/orders/order/?status__exact=failed").content.decode()

    assert shipped.number in with_tracking and pending.number not in with_tracking
    assert shipped.number not in failed_only and pending.number not in failed_only


def test_retry_action_requeues_failed_orders(admin_client):
    variant = VariantFactory(stock=5)
    order = OrderFactory(items=[], status=Order.Status.FAILED, failure_reason="rejected")
    OrderItemFactory(order=order, variant=variant, quantity=2)

    response = admin_client.post(
        "/admin/orders/order/", {"action": "retry_forwarding", "_selected_action": [order.pk]}, follow=True
    )

    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.failure_reason) == ("paid", "")
    assert Variant.objects.get(pk=variant.pk).stock == 3
    assert order.events.get().staff_user.username == "boss"


def test_retry_action_reports_failed_orders_without_the_stock(admin_client):
    variant = VariantFactory(stock=1)
    order = OrderFactory(items=[], status=Order.Status.FAILED, failure_reason="out_of_stock")
    OrderItemFactory(order=order, variant=variant, quantity=2)

    response = admin_client.post(
        "/admin/orders/order/", {"action": "retry_forwarding", "_selected_action": [order.pk]}, follow=True
    )

    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["0 order(s) queued for forwarding again.", "1 order(s) lack the stock to retry."]
    order.refresh_from_db()
    assert order.status == "failed"
    assert Variant.objects.get(pk=variant.pk).stock == 1


def test_cancel_action_leaves_placed_orders_alone(admin_client):
    pending, placed = OrderFactory(), OrderFactory(status=Order.Status.PLACED)

    response = admin_client.post(
        "/admin/orders/order/", {"action": "cancel_orders", "_selected_action": [pending.pk, placed.pk]}, follow=True
    )

    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["1 order(s) cancelled.", "1 order(s) are already at CJ and were left unchanged."]
    assert set(Order.objects.values_list("number", "status")) == {
        (pending.number, "cancelled"),
        (placed.number, "placed"),
    }


def test_csv_export_of_selected_orders(admin_client):
    order = OrderFactory(email="=cmd@example.com")

    response = admin_client.post("/admin/orders/order/", {"action": "export_csv", "_selected_action": [order.pk]})

    rows = b"".join(response.streaming_content).decode().splitlines()
    assert rows[0].split(",")[:4] == ["number", "created_at", "status", "email"]
    assert len(rows) == 2
    assert rows[1].startswith(f"{order.number},")
    assert ",'=cmd@example.com," in rows[1]  # a formula-looking cell is defused


def test_customer_page_lists_orders_and_dashboard_shows_them(admin_client):
    order = OrderFactory(status=Order.Status.FAILED, failure_reason="balance_insufficient")
    stuck = OrderFactory(status_changed_at=timezone.now() - timedelta(hours=1))
    fresh = OrderFactory()

    customer_page = admin_client.get(f"/admin/crm/customer/{order.customer_id}/change/").content.decode()
    dashboard = admin_client.get("/admin/").content.decode()

    assert order.number in customer_page
    assert "Orders by status" in dashboard
    assert "Orders stuck or failed" in dashboard
    assert order.number in dashboard and stuck.number in dashboard and "stuck in paid" in dashboard
    assert fresh.number not in dashboard
