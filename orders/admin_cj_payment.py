"""The order page's "Payment at CJ" part: what the buyer paid, what CJ was paid and when, the
margin, and the action "Approve payment at CJ" for orders the cost guard held.

Kept apart from `orders/admin.py` (other back-office work edits that file): `OrderAdmin` inherits
`CJPaymentAdminMixin` and lists its fieldset, read-only fields, filter and action.
"""

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse

from config.dashboard import DashboardItem, DashboardPanel, dashboard_panel_register
from config.users import admin_request_user
from orders.cj_balance import cj_balance_snapshot
from orders.cj_payment import order_cj_payment_approve
from orders.errors import CJPaymentNotHeld
from orders.models import Order

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldOpts

CJ_PAYMENT_FIELDS = (
    "paid_by_buyer",
    "cj_payment_status",
    "cj_order_amount",
    "cj_paid_amount",
    "cj_paid_at",
    "cj_margin",
    "cj_payment_approved_at",
    "cj_shipment_order_id",
    "cj_pay_id",
)
CJ_PAYMENT_FIELDSET: "tuple[str, _FieldOpts]" = ("Payment at CJ", {"fields": CJ_PAYMENT_FIELDS})


class CJPaymentAdminMixin(admin.ModelAdmin):
    """Read-only CJ payment figures and the approval action of the order admin."""

    @admin.display(description="paid by the buyer")
    def paid_by_buyer(self, order: Order) -> str:
        if order.paid_amount is None:
            return f"not paid yet (total {order.total} {order.currency})"
        return f"{order.paid_amount} {order.currency}"

    @admin.display(description="margin")
    def cj_margin(self, order: Order) -> str:
        """What the buyer paid minus what CJ was paid (or asks, while unpaid), and its share."""
        cost = order.cj_paid_amount if order.cj_paid_amount is not None else order.cj_order_amount
        if cost is None:
            return "-"
        margin = order.total - cost
        share = (margin / order.total * 100).quantize(Decimal("0.1")) if order.total else Decimal(0)
        basis = "" if order.cj_paid_amount is not None else " (CJ's amount, not paid yet)"
        return f"{margin} {order.currency}, {share} % of what the buyer paid{basis}"

    def has_approve_cj_payment_permission(self, request: HttpRequest) -> bool:
        return admin_request_user(request).has_perm("orders.approve_cj_payment")

    # Approving spends the CJ balance beyond the cost guard: its own permission, not change_order.
    @admin.action(description="Approve payment at CJ (held orders)", permissions=["approve_cj_payment"])
    def approve_cj_payment(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        user = admin_request_user(request)
        approved = refused = 0
        for order in queryset:
            try:
                order_cj_payment_approve(order_id=order.pk, staff_user=user)
                approved += 1
            except CJPaymentNotHeld:
                refused += 1
        if approved:
            self.message_user(
                request,
                f"{approved} order(s) approved: their payment at CJ is queued; the timeline shows when CJ is paid.",
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request, f"{refused} order(s) were not held for approval and were left unchanged.", messages.WARNING
            )


def cj_payment_panels(request: HttpRequest) -> Iterator[DashboardPanel]:
    """The dashboard's "Payment at CJ" panel (staff with change_order): placed orders held for
    approval, waiting for balance or due, and the CJ balance at the last check."""
    # For who runs orders (change_order), not every viewer (Sales): the CJ balance is the shop's money.
    if not request.user.has_perm("orders.change_order"):  # anonymous included: no panel, no error
        return
    counts = dict(
        Order.objects.filter(status=Order.Status.PLACED)
        .values_list("cj_payment_status")
        .annotate(n=Count("id"))
        .values_list("cj_payment_status", "n")
    )
    url = reverse("admin:orders_order_changelist")
    items = [
        DashboardItem(
            label=label,
            value=counts.get(status, 0),
            url=f"{url}?cj_payment_status__exact={status}",
            badge=badge if counts.get(status, 0) else "",
        )
        for status, label, badge in (
            (Order.CJPaymentStatus.HELD, "Held for staff approval", "warning"),
            (Order.CJPaymentStatus.WAITING_BALANCE, "Waiting for CJ balance", "danger"),
            (Order.CJPaymentStatus.DUE, "Due", ""),
        )
    ]
    snapshot = cj_balance_snapshot()
    if snapshot is not None:
        items.append(
            DashboardItem(
                label="CJ balance",
                value=f"{snapshot.amount} USD",
                value_badge="danger" if snapshot.is_alerting else "",
                hint=f"checked {snapshot.checked_at:%Y-%m-%d %H:%M} UTC; alert below {snapshot.alert_below}",
            )
        )
    yield DashboardPanel(key="orders-cj-payment", title="Payment at CJ", order=36, kind="stats", items=tuple(items))


dashboard_panel_register(cj_payment_panels)
