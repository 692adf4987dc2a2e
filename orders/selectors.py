"""Reads of the orders app."""

import hmac
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from catalog.models import Product, Variant
from catalog.selectors import product_is_sellable
from orders.models import Order, OrderItem


def order_get_for_reader(*, number: str, access_token: str | None, is_staff: bool) -> Order | None:
    """The order with its items, variants and timeline, if the caller may read it (staff, or the
    buyer holding its access token); None otherwise, so callers cannot tell the two apart."""
    order = (
        Order.objects.select_related("customer")
        .prefetch_related("items__variant__product", "events")
        .filter(number=number)
        .first()
    )
    if order is None:
        return None
    if is_staff or (access_token and hmac.compare_digest(access_token.encode(), order.access_token.encode())):
        return order
    return None


def order_counts_by_status() -> dict[str, int]:
    """Orders per status, every status present (0 when none), for the admin dashboard."""
    counts = dict(Order.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {status: counts.get(status, 0) for status in Order.Status.values}


def order_list_needing_attention() -> QuerySet[Order]:
    """Failed orders, held payments and orders stuck in paid/forwarding longer than the sweeper's threshold,
    most recent first, for the admin dashboard."""
    return Order.objects.filter(
        Q(status=Order.Status.FAILED) | _is_stuck() | Q(status=Order.Status.AWAITING_PAYMENT, payment_held=True)
    ).order_by("-status_changed_at")


def variants_for_order_lines(variant_ids: list[int]) -> tuple[dict[int, Variant], dict[str, list[str]]]:
    """The variants of an order's lines, and per line index what makes a line unorderable
    (unknown variant, or variant/product not active)."""
    found = Variant.objects.select_related("product").in_bulk(variant_ids)
    errors: dict[str, list[str]] = {}
    for index, variant_id in enumerate(variant_ids):
        variant = found.get(variant_id)
        if variant is None:
            errors[str(index)] = ["This variant does not exist."]
        elif variant.status != Variant.Status.ACTIVE or not product_is_sellable(variant.product):
            errors[str(index)] = ["This variant is not available."]
    return found, errors


def _is_stuck() -> Q:
    stuck_since = timezone.now() - timedelta(seconds=settings.ORDERS_STUCK_AFTER_SECONDS)
    return Q(status__in=(Order.Status.PAID, Order.Status.FORWARDING), status_changed_at__lt=stuck_since)


def order_ids_stuck() -> list[int]:
    """Orders left in paid/forwarding longer than ORDERS_STUCK_AFTER_SECONDS: their forwarding
    job was lost (what the sweeper re-enqueues)."""
    return list(Order.objects.filter(_is_stuck()).values_list("pk", flat=True))


def order_ids_forwarding_due() -> list[int]:
    """Paid/forwarding orders (not held) older than ORDERS_JOB_LOST_AFTER_SECONDS: each should have
    its forwarding job in Redis by now (the sweeper checks that it does)."""
    settled = timezone.now() - timedelta(seconds=settings.ORDERS_JOB_LOST_AFTER_SECONDS)
    return list(
        Order.objects.filter(
            status__in=(Order.Status.PAID, Order.Status.FORWARDING), payment_held=False, status_changed_at__lt=settled
        ).values_list("pk", flat=True)
    )


def order_ids_due_status_check() -> list[int]:
    """Placed or shipped orders that have not moved, nor been checked at CJ, for
    ORDERS_STATUS_CHECK_AFTER_SECONDS; least recently checked first, at most
    ORDERS_STATUS_CHECK_BATCH."""
    quiet_since = timezone.now() - timedelta(seconds=settings.ORDERS_STATUS_CHECK_AFTER_SECONDS)
    return list(
        Order.objects.filter(status__in=(Order.Status.PLACED, Order.Status.SHIPPED), status_changed_at__lt=quiet_since)
        .filter(Q(cj_checked_at__isnull=True) | Q(cj_checked_at__lt=quiet_since))
        .order_by("cj_checked_at", "pk")
        .values_list("pk", flat=True)[: settings.ORDERS_STATUS_CHECK_BATCH]
    )


def order_ids_open_at_cj() -> list[int]:
    """Orders CJ holds and has not finished (placed or shipped): what a reconciliation re-checks."""
    return list(
        Order.objects.filter(status__in=(Order.Status.PLACED, Order.Status.SHIPPED))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def order_skus_not_sold(*, order_id: int) -> list[str]:
    """The SKUs (else CJ vids) of the order's lines whose variant or product is no longer active:
    a forwarding retry would meet CJ's refusal again. Empty when every line is still sold."""
    return [
        sku or cj_vid
        for sku, cj_vid in OrderItem.objects.filter(order_id=order_id)
        .exclude(variant__status=Variant.Status.ACTIVE, variant__product__status=Product.Status.ACTIVE)
        .order_by("id")
        .values_list("variant__sku", "variant__cj_vid")
    ]


def order_ids_payment_expired() -> list[int]:
    """Orders unpaid (no payment recorded, none held) for ORDERS_PAYMENT_TIMEOUT_MINUTES: what the
    sweeper expires."""
    unpaid_since = timezone.now() - timedelta(minutes=settings.ORDERS_PAYMENT_TIMEOUT_MINUTES)
    return list(
        Order.objects.filter(
            status=Order.Status.AWAITING_PAYMENT,
            paid_at__isnull=True,
            payment_held=False,
            status_changed_at__lt=unpaid_since,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def order_ids_payment_check_due(*, interval_seconds: int = 60) -> list[int]:
    """Unpaid orders that reached ORDERS_PAYMENT_CHECK_AFTER_SECONDS within the last sweep
    interval: asked once at Stripe, in case the payment's webhook never came."""
    due = timezone.now() - timedelta(seconds=settings.ORDERS_PAYMENT_CHECK_AFTER_SECONDS)
    return list(
        Order.objects.filter(
            status=Order.Status.AWAITING_PAYMENT,
            paid_at__isnull=True,
            payment_held=False,
            status_changed_at__lt=due,
            status_changed_at__gte=due - timedelta(seconds=interval_seconds),
        )
        .exclude(payment_intent_id="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def order_ids_refund_due(*, older_than_seconds: int = 60) -> list[int]:
    """Orders that owe the buyer their Stripe payment and were not refunded (the refund job's
    enqueue was lost): cancelled or expired with a payment, or failed because the goods are gone."""
    ended_before = timezone.now() - timedelta(seconds=older_than_seconds)
    gone = (Order.FailureReason.OUT_OF_STOCK, Order.FailureReason.VARIANT_UNAVAILABLE)
    return list(
        Order.objects.filter(
            Q(status__in=(Order.Status.CANCELLED, Order.Status.EXPIRED))
            | Q(status=Order.Status.FAILED, failure_reason__in=gone),
            paid_at__isnull=False,
            paid_amount__gt=0,
            refunded_amount=0,
            payment_held=False,
            status_changed_at__lt=ended_before,
        )
        .exclude(payment_intent_id="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
