"""The orders back office: list filters, actions, CSV, the customer page and the dashboard."""

from datetime import timedelta

import django_rq
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


def _messages(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


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
    assert (order.status, order.failure_reason) == ("pending", "")
    assert Variant.objects.get(pk=variant.pk).stock == 3
    assert order.events.get().staff_user.username == "boss"


def test_retry_action_reports_failed_orders_without_the_stock(admin_client):
    variant = VariantFactory(stock=1)
    order = OrderFactory(items=[], status=Order.Status.FAILED, failure_reason="out_of_stock")
    OrderItemFactory(order=order, variant=variant, quantity=2)

    response = admin_client.post(
        "/admin/orders/order/", {"action": "retry_forwarding", "_selected_action": [order.pk]}, follow=True
    )

    assert _messages(response) == [
        ("warning", "No order queued for forwarding to CJ again."),
        ("warning", f"Order {order.number} cannot be retried: not enough stock left for its items."),
    ]
    order.refresh_from_db()
    assert order.status == "failed"
    assert Variant.objects.get(pk=variant.pk).stock == 1


def test_cancel_action_leaves_placed_orders_alone(admin_client):
    pending, placed = OrderFactory(), OrderFactory(status=Order.Status.PLACED)

    response = admin_client.post(
        "/admin/orders/order/", {"action": "cancel_orders", "_selected_action": [pending.pk, placed.pk]}, follow=True
    )

    assert _messages(response) == [
        ("success", f"1 order(s) cancelled: {pending.number}."),
        (
            "warning",
            f"Order {placed.number} is Placed at CJ: CJ has it or may be creating it now, so only CJ can cancel "
            "it (only pending or failed orders are cancelled here).",
        ),
    ]
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
    assert '<span class="crm-badge order-badge order-badge--failed">Failed</span>' in customer_page
    assert "backoffice/admin.css" in customer_page
    assert "Orders by status" in dashboard
    assert "Orders stuck or failed" in dashboard
    assert order.number in dashboard and stuck.number in dashboard and "stuck in pending" in dashboard
    assert fresh.number not in dashboard


def test_retry_action_refuses_an_order_whose_variant_is_gone_and_says_why(admin_client):
    variant = VariantFactory(stock=5, sku="MUG-BLUE", status=Variant.Status.INACTIVE)
    order = OrderFactory(items=[], status=Order.Status.FAILED, failure_reason="variant_unavailable")
    OrderItemFactory(order=order, variant=variant, quantity=1)
    placed = OrderFactory(status=Order.Status.PLACED)

    response = admin_client.post(
        "/admin/orders/order/", {"action": "retry_forwarding", "_selected_action": [order.pk, placed.pk]}, follow=True
    )

    assert sorted(_messages(response)) == [
        ("warning", "No order queued for forwarding to CJ again."),
        (
            "warning",
            f"Order {order.number} cannot be retried: variant MUG-BLUE is no longer sold (inactive in the catalog), "
            "so CJ would refuse it again; cancel the order instead.",
        ),
        ("warning", f"Order {placed.number} is Placed at CJ, not failed: there is nothing to retry."),
    ]
    order.refresh_from_db()
    assert (order.status, order.events.count()) == ("failed", 0)
    assert Variant.objects.get(pk=variant.pk).stock == 5


def test_cancel_action_that_cancels_nothing_is_a_warning_naming_why(admin_client):
    forwarding = OrderFactory(status=Order.Status.FORWARDING)
    cancelled = OrderFactory(status=Order.Status.CANCELLED)

    response = admin_client.post(
        "/admin/orders/order/",
        {"action": "cancel_orders", "_selected_action": [forwarding.pk, cancelled.pk]},
        follow=True,
    )

    assert sorted(_messages(response)) == [
        ("warning", "No order cancelled."),
        (
            "warning",
            f"Order {forwarding.number} is Forwarding to CJ: CJ has it or may be creating it now, so only CJ can "
            "cancel it (only pending or failed orders are cancelled here).",
        ),
        ("warning", f"Order {cancelled.number} was already cancelled."),
    ]
    assert Order.objects.get(pk=forwarding.pk).status == "forwarding"


def _page(client, order) -> str:
    response = client.get(f"/admin/orders/order/{order.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("status", "buttons", "deletable"),
    [
        (Order.Status.PENDING, ["cancel"], False),
        (Order.Status.FORWARDING, [], False),
        (Order.Status.PLACED, [], False),
        (Order.Status.SHIPPED, [], False),
        (Order.Status.DELIVERED, [], False),
        (Order.Status.FAILED, ["retry", "cancel"], False),
        (Order.Status.CANCELLED, [], True),
    ],
)
def test_order_page_offers_the_buttons_its_status_allows_and_delete_only_when_nothing_is_lost(
    admin_client, status, buttons, deletable
):
    order = OrderFactory(status=status)

    page = _page(admin_client, order)

    shown = [name for name in ("retry", "cancel") if f'id="object-action-{name}"' in page]
    assert shown == buttons
    for name in buttons:
        assert f'action="/admin/orders/order/{order.pk}/actions/{name}/"' in page
    assert ('class="deletelink"' in page) is deletable
    assert f'<span class="crm-badge order-badge order-badge--{status}">' in page
    delete_page = admin_client.get(f"/admin/orders/order/{order.pk}/delete/")
    assert delete_page.status_code == (200 if deletable else 403)


def test_a_cancelled_order_that_reached_cj_cannot_be_deleted_and_the_list_has_no_bulk_delete(admin_client):
    order = OrderFactory(status=Order.Status.CANCELLED, cj_order_id="CJ123")

    assert admin_client.get(f"/admin/orders/order/{order.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/orders/order/{order.pk}/delete/", {"post": "yes"}).status_code == 403
    changelist = admin_client.get("/admin/orders/order/").content.decode()
    assert 'value="delete_selected"' not in changelist
    assert Order.objects.filter(pk=order.pk).exists()


def test_retry_button_queues_a_failed_order_with_a_success_message(admin_client):
    variant = VariantFactory(stock=5)
    order = OrderFactory(items=[], status=Order.Status.FAILED, failure_reason="rejected")
    OrderItemFactory(order=order, variant=variant, quantity=2)

    response = admin_client.post(f"/admin/orders/order/{order.pk}/actions/retry/", follow=True)

    assert response.redirect_chain == [(f"/admin/orders/order/{order.pk}/change/", 302)]
    assert _messages(response) == [
        ("success", f"Order {order.number} is queued for forwarding to CJ again; its stock is reserved.")
    ]
    order.refresh_from_db()
    assert order.status == "pending"
    assert Variant.objects.get(pk=variant.pk).stock == 3
    assert list(order.events.values_list("from_status", "to_status", "message", "staff_user__username")) == [
        ("failed", "pending", "Retry requested.", "boss")
    ]


def test_retry_button_on_an_order_whose_variant_is_gone_says_why_and_queues_nothing(admin_client):
    variant = VariantFactory(stock=5, sku="MUG-RED", status=Variant.Status.INACTIVE)
    order = OrderFactory(items=[], status=Order.Status.FAILED, failure_reason="variant_unavailable")
    OrderItemFactory(order=order, variant=variant, quantity=1)

    response = admin_client.post(f"/admin/orders/order/{order.pk}/actions/retry/", follow=True)

    assert _messages(response) == [
        (
            "warning",
            f"Order {order.number} cannot be retried: variant MUG-RED is no longer sold (inactive in the catalog), "
            "so CJ would refuse it again; cancel the order instead.",
        )
    ]
    order.refresh_from_db()
    assert order.status == "failed"
    assert django_rq.get_queue("create-order").count == 0


def test_cancel_button_cancels_a_pending_order_and_refuses_a_placed_one(admin_client):
    variant = VariantFactory(stock=5, cj_stock=7)  # 2 of CJ's 7 held by the pending order
    pending = OrderFactory(items=[])
    OrderItemFactory(order=pending, variant=variant, quantity=2)
    placed = OrderFactory(status=Order.Status.PLACED)

    done = admin_client.post(f"/admin/orders/order/{pending.pk}/actions/cancel/", follow=True)
    refused = admin_client.post(f"/admin/orders/order/{placed.pk}/actions/cancel/", follow=True)

    assert _messages(done) == [("success", f"Order {pending.number} is cancelled; its reserved stock is released.")]
    assert _messages(refused) == [
        ("warning", f"“Cancel order” does not apply to {placed.number} as it is now; nothing was done.")
    ]
    assert Variant.objects.get(pk=variant.pk).stock == 7
    assert set(Order.objects.values_list("number", "status")) == {
        (pending.number, "cancelled"),
        (placed.number, "placed"),
    }


def test_object_actions_need_post_csrf_and_the_change_permission(client):
    # given: a Sales user may view orders but not change them
    from django.contrib.auth.models import Group

    viewer = get_user_model().objects.create_user(username="sally", password="pw-sally-1", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Sales"))
    order = OrderFactory(status=Order.Status.FAILED)
    boss = get_user_model().objects.create_superuser(username="boss2", email="", password="pw-boss-2")
    csrf_client = type(client)(enforce_csrf_checks=True)
    csrf_client.force_login(boss)
    client.force_login(viewer)

    # then
    assert 'id="object-action-retry"' not in _page(client, order)
    assert client.post(f"/admin/orders/order/{order.pk}/actions/retry/").status_code == 403
    assert csrf_client.post(f"/admin/orders/order/{order.pk}/actions/retry/").status_code == 403  # no CSRF token
    assert csrf_client.get(f"/admin/orders/order/{order.pk}/actions/retry/").status_code == 405
    assert csrf_client.post(f"/admin/orders/order/{order.pk}/actions/nonsense/").status_code == 403
    assert Order.objects.get(pk=order.pk).status == "failed"


def test_order_list_shows_badges_and_the_columns_staff_need(admin_client):
    order = OrderFactory(
        status=Order.Status.FAILED, failure_reason="address_invalid", cj_order_id="CJ-77", tracking_number="TRK-9"
    )

    page = admin_client.get("/admin/orders/order/?status__exact=failed").content.decode()

    assert '<span class="crm-badge order-badge order-badge--failed">Failed</span>' in page
    for column in ("number", "created", "status_badge", "total", "cj_order_id", "tracking_number", "failure_reason"):
        assert f"column-{column}" in page
    assert "Address invalid" in page and "CJ-77" in page and "TRK-9" in page and order.number in page
    assert "backoffice/admin.css" in page


def test_cancel_button_on_a_failed_order_says_its_stock_was_released_at_the_failure(admin_client):
    variant = VariantFactory(stock=5)
    order = OrderFactory(items=[], status=Order.Status.FAILED, failure_reason="rejected")
    OrderItemFactory(order=order, variant=variant, quantity=2)

    response = admin_client.post(f"/admin/orders/order/{order.pk}/actions/cancel/", follow=True)

    assert _messages(response) == [
        ("success", f"Order {order.number} is cancelled; its stock was already released when it failed.")
    ]
    assert Variant.objects.get(pk=variant.pk).stock == 5  # nothing given back twice
