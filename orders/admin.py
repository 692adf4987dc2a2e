"""Orders in the back office: filters, status badges, timeline, the last CJ answer; bulk retry /
cancel / export, and the order page's Retry and Cancel buttons (`ORDER_OBJECT_ACTIONS`)."""

import json
import logging
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils.html import format_html

from config.admin_columns import short_datetime
from config.admin_csv import csv_stream_response
from config.admin_object_actions import ObjectAction, ObjectActionsMixin
from config.dashboard import DashboardItem, DashboardPanel, dashboard_panel_register
from config.users import admin_request_user
from crm.admin.customers import customer_inline_register
from orders import selectors, services
from orders.errors import OrderNotCancellable, OrderNotRetryable, OutOfStock
from orders.models import Order, OrderEvent, OrderItem

business_logger = logging.getLogger("business")

CSV_COLUMNS = (
    "number", "created_at", "status", "email", "shipping_name", "shipping_country_code",
    "items_total", "shipping_total", "total", "currency", "logistic_name", "cj_order_id",
    "tracking_number", "failure_reason",
)  # fmt: skip


class HasTrackingFilter(admin.SimpleListFilter):
    title = "tracking"
    parameter_name = "has_tracking"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Has tracking"), ("no", "No tracking")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() == "yes":
            return queryset.exclude(tracking_number="")
        if self.value() == "no":
            return queryset.filter(tracking_number="")
        return queryset


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = ("variant", "quantity", "unit_price", "unit_cost")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    verbose_name_plural = "timeline"
    fields = ("created_at", "from_status", "to_status", "message", "staff_user")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The dashboard's dot and bar colour per status (ok / warning / danger / lost).
STATUS_BADGES: dict[str, str] = {
    Order.Status.PENDING: "warning",
    Order.Status.FORWARDING: "warning",
    Order.Status.PLACED: "ok",
    Order.Status.SHIPPED: "ok",
    Order.Status.DELIVERED: "ok",
    Order.Status.FAILED: "danger",
    Order.Status.CANCELLED: "lost",
}


def order_status_badge_html(order: Order) -> str:
    """The order's status as a badge of its own colour (`backoffice/admin.css`, `.order-badge--*`)."""
    return format_html(
        '<span class="crm-badge order-badge order-badge--{}">{}</span>', order.status, order.get_status_display()
    )


# --- the order page's buttons (config.admin_object_actions); other features append theirs --------
def _retry(request: HttpRequest, order: Order) -> str:
    services.order_retry_forwarding(order_id=order.pk, staff_user=admin_request_user(request))
    return f"Order {order.number} is queued for forwarding to CJ again; its stock is reserved."


def _cancel(request: HttpRequest, order: Order) -> str:
    held_stock = order.is_reserving_stock
    services.order_cancel(order_id=order.pk, staff_user=admin_request_user(request))
    stock = "its reserved stock is released" if held_stock else "its stock was already released when it failed"
    return f"Order {order.number} is cancelled; {stock}."


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
        is_available=lambda order: order.status in (Order.Status.PENDING, Order.Status.FAILED),
        style="danger",
        help_text="Only for orders CJ has not been asked to take (pending or failed); releases the stock.",
    ),
]


def order_is_deletable(order: Order) -> bool:
    """Only a cancelled order that never reached CJ may be deleted: any other is an accepted order
    (or CJ's), and deleting it would lose it."""
    return order.status == Order.Status.CANCELLED and not order.cj_order_id


@admin.register(Order)
class OrderAdmin(ObjectActionsMixin, admin.ModelAdmin):
    # Chosen for 1366 px (tests/test_admin_walk_browser.py): total, CJ id, tracking and failure
    # reason stay in view beside the filters; the customer is on the order page.
    list_display = ("number", "created", "status_badge", "shipping_country_code", "total", "cj_order_id",
                    "tracking_number", "failure_reason")  # fmt: skip
    list_filter = ("status", "created_at", "shipping_country_code", HasTrackingFilter, "failure_reason")
    search_fields = ("number", "email", "cj_order_id", "tracking_number")
    date_hierarchy = "created_at"
    inlines = (OrderItemInline, OrderEventInline)
    actions = ("retry_forwarding", "cancel_orders", "export_csv")
    object_actions = ORDER_OBJECT_ACTIONS
    readonly_fields = ("number", "customer_link", "status_badge", "status_changed_at", "items_total", "shipping_total",
                       "total", "currency", "cj_order_id", "cj_status", "cj_checked_at", "tracking_number",
                       "tracking_url", "failure_reason", "failure_message", "last_cj_answer", "created_at",
                       "updated_at")  # fmt: skip
    fieldsets = (
        (None, {"fields": ("number", "status_badge", "status_changed_at", "customer_link", "email", "phone")}),
        (
            "Shipping",
            {
                "fields": (
                    "shipping_name",
                    "shipping_line1",
                    "shipping_line2",
                    "shipping_city",
                    "shipping_province",
                    "shipping_zip",
                    "shipping_country_code",
                    "logistic_name",
                )
            },
        ),
        ("Totals", {"fields": ("items_total", "shipping_total", "total", "currency")}),
        (
            "CJ",
            {
                "fields": (
                    "cj_order_id",
                    "cj_status",
                    "cj_checked_at",
                    "tracking_number",
                    "tracking_url",
                    "failure_reason",
                    "failure_message",
                    "last_cj_answer",
                )
            },
        ),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )

    class Media:
        css = {"all": ("crm/admin.css", "backoffice/admin.css")}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders come from the storefront

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        if obj is not None and not order_is_deletable(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # The bulk delete would take placed and accepted orders with it: deleting is per order only.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> tuple[str, ...]:
        if obj is not None and obj.status not in (Order.Status.PENDING, Order.Status.FAILED):
            # Once CJ has the order, its address is CJ's: editing it here would change nothing there.
            return (
                *self.readonly_fields,
                "email", "phone", "shipping_name", "shipping_line1", "shipping_line2", "shipping_city",
                "shipping_province", "shipping_zip", "shipping_country_code", "logistic_name",
            )  # fmt: skip
        return tuple(self.readonly_fields)

    @admin.display(description="created", ordering="created_at")
    def created(self, order: Order) -> str:
        return short_datetime(order.created_at)

    @admin.display(description="status", ordering="status")
    def status_badge(self, order: Order) -> str:
        return order_status_badge_html(order)

    @admin.display(description="customer", ordering="customer__email")
    def customer_link(self, order: Order) -> str:
        url = reverse("admin:crm_customer_change", args=[order.customer_id])
        return format_html('<a href="{}">{}</a>', url, order.customer)

    @admin.display(description="last CJ answer")
    def last_cj_answer(self, order: Order) -> str:
        if not order.last_cj_response:
            return "-"
        return format_html("<pre>{}</pre>", json.dumps(order.last_cj_response, indent=2, sort_keys=True))

    # Retrying spends the CJ balance and cancelling refunds the buyer: both need change_order,
    # not merely the view permission a Sales user holds.
    @admin.action(description="Retry forwarding to CJ (failed orders)", permissions=["change"])
    def retry_forwarding(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        retried: list[str] = []
        refusals: list[str] = []
        for order in queryset:
            try:
                services.order_retry_forwarding(order_id=order.pk, staff_user=admin_request_user(request))
                retried.append(order.number)
            except (OrderNotRetryable, OutOfStock) as refusal:
                refusals.append(refusal.message)
        self._report(request, done=retried, verb="queued for forwarding to CJ again", refusals=refusals)

    @admin.action(description="Cancel (orders CJ has not taken)", permissions=["change"])
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        cancelled: list[str] = []
        refusals: list[str] = []
        for order in queryset:
            if order.status == Order.Status.CANCELLED:
                refusals.append(f"Order {order.number} was already cancelled.")
                continue
            try:
                services.order_cancel(order_id=order.pk, staff_user=admin_request_user(request))
                cancelled.append(order.number)
            except OrderNotCancellable as refusal:
                refusals.append(refusal.message)
        self._report(request, done=cancelled, verb="cancelled", refusals=refusals)

    def _report(self, request: HttpRequest, *, done: list[str], verb: str, refusals: list[str]) -> None:
        """Success only for what was done; each refusal a warning naming the order and why."""
        if done:
            self.message_user(request, f"{len(done)} order(s) {verb}: {', '.join(done)}.", messages.SUCCESS)
        elif refusals:
            self.message_user(request, f"No order {verb}.", messages.WARNING)
        for refusal in refusals:
            self.message_user(request, refusal, messages.WARNING)

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Order]) -> StreamingHttpResponse:
        business_logger.info("orders.exported", extra={"by": request.user.pk, "count": queryset.count()})
        rows = queryset.order_by("-created_at").values_list(*CSV_COLUMNS).iterator(chunk_size=2000)
        return csv_stream_response(CSV_COLUMNS, rows, filename="orders")


class CustomerOrderInline(admin.TabularInline):
    model = Order
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("number", "created_at", "status_badge", "total", "tracking_number")
    readonly_fields = fields
    ordering = ("-created_at",)

    class Media:
        css = {"all": ("backoffice/admin.css",)}

    @admin.display(description="status")
    def status_badge(self, order: Order) -> str:
        return order_status_badge_html(order)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


customer_inline_register(CustomerOrderInline)


def _order_list_url(**params: str) -> str:
    url = reverse("admin:orders_order_changelist")
    return url + ("?" + "&".join(f"{key}={value}" for key, value in params.items()) if params else "")


def orders_panels(request: HttpRequest) -> Any:
    """Orders by status, and the stuck or failed ones, on the admin dashboard."""
    if not request.user.has_perm("orders.view_order"):
        return
    counts = selectors.order_counts_by_status()
    total = sum(counts.values())
    yield DashboardPanel(
        key="orders-by-status",
        title="Orders by status",
        order=30,
        url=_order_list_url(),
        url_label=f"All {total} orders",
        items=tuple(
            DashboardItem(
                label=label,
                value=counts[status],
                url=_order_list_url(status__exact=status),
                badge=STATUS_BADGES[status],
                share=round(100 * counts[status] / total, 1) if total else 0,
            )
            for status, label in Order.Status.choices
        ),
    )
    failed = list(selectors.order_list_needing_attention()[:6])
    yield DashboardPanel(
        key="orders-failed",
        title="Orders stuck or failed",
        order=35,
        url=_order_list_url(status__exact=Order.Status.FAILED),
        url_label="All failed orders",
        empty_text="No stuck or failed orders.",
        items=tuple(
            DashboardItem(
                label=order.number,
                value=order.get_failure_reason_display() or f"stuck in {order.status}",
                url=reverse("admin:orders_order_change", args=[order.pk]),
                badge="danger" if order.status == Order.Status.FAILED else "warning",
                hint=order.failure_message[:80],
            )
            for order in failed
        ),
    )


dashboard_panel_register(orders_panels)
