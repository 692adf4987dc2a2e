"""Order placement's customer link, status machine, stock release on failure and cancellation,
staff retry."""

from decimal import Decimal

import pytest

from catalog.models import Product, Variant
from crm.models import Customer
from orders import services
from orders.models import Order
from tests.catalog.factories import VariantFactory
from tests.crm.factories import CustomerFactory
from tests.orders.factories import OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db


def _reserved_order(stock_left: int = 5, quantity: int = 2, status: str = Order.Status.PENDING) -> Order:
    """An order whose `quantity` units were taken from a variant that now has `stock_left` (CJ's
    figure still counts them)."""
    variant = VariantFactory(stock=stock_left, cj_stock=stock_left + quantity)
    order = OrderFactory(items=[], status=status)
    OrderItemFactory(order=order, variant=variant, quantity=quantity)
    return order


def _stock(order: Order) -> int:
    return Variant.objects.get(pk=order.items.get().variant_id).stock


def test_failure_releases_reserved_stock_and_records_reason():
    order = _reserved_order(stock_left=5, quantity=2, status=Order.Status.FORWARDING)

    services.order_fail(order_id=order.pk, reason=Order.FailureReason.BALANCE_INSUFFICIENT, message="no money")

    order.refresh_from_db()
    assert (order.status, order.failure_reason, order.failure_message) == ("failed", "balance_insufficient", "no money")
    assert _stock(order) == 7
    assert list(order.events.values_list("from_status", "to_status")) == [("forwarding", "failed")]


def test_cancel_of_pending_order_releases_stock_once():
    order = _reserved_order(stock_left=5, quantity=2)

    services.order_cancel(order_id=order.pk)
    services.order_cancel(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert _stock(order) == 7


def test_cancel_of_failed_order_does_not_release_again():
    order = _reserved_order(stock_left=5, quantity=2, status=Order.Status.FORWARDING)
    services.order_fail(order_id=order.pk, reason="rejected", message="no")

    services.order_cancel(order_id=order.pk)

    assert _stock(order) == 7


@pytest.mark.parametrize("status", [Order.Status.FORWARDING, Order.Status.PLACED, Order.Status.SHIPPED])
def test_cancel_refused_once_cj_may_have_the_order(status):
    order = _reserved_order(status=status)

    with pytest.raises(services.OrderRejected) as refused:
        services.order_cancel(order_id=order.pk)

    refusal = (
        f"Order {order.number} is {Order.Status(status).label}: CJ has it or may be creating it now, "
        "so only CJ can cancel it (only pending or failed orders are cancelled here)."
    )
    assert (refused.value.status, refused.value.code, refused.value.message, refused.value.details) == (
        409,
        "conflict",
        refusal,
        {"status": [refusal]},
    )

    order.refresh_from_db()
    assert order.status == status
    assert _stock(order) == 5


def test_retry_of_failed_order_reserves_again_and_goes_pending():
    order = _reserved_order(stock_left=5, quantity=2, status=Order.Status.FORWARDING)
    services.order_fail(order_id=order.pk, reason="rejected", message="no")

    services.order_retry_forwarding(order_id=order.pk)

    order.refresh_from_db()
    assert (order.status, order.failure_reason) == ("pending", "")
    assert _stock(order) == 5


def test_retry_refused_when_stock_is_gone():
    order = _reserved_order(stock_left=0, quantity=2, status=Order.Status.FORWARDING)
    services.order_fail(order_id=order.pk, reason="rejected", message="no")
    Variant.objects.filter(pk=order.items.get().variant_id).update(stock=1)

    with pytest.raises(services.OrderRejected) as refused:
        services.order_retry_forwarding(order_id=order.pk)

    assert (refused.value.status, refused.value.code, refused.value.message, refused.value.details) == (
        409,
        "out_of_stock",
        f"Order {order.number} cannot be retried: not enough stock left for its items.",
        {"items": ["Not enough stock left to retry."]},
    )

    order.refresh_from_db()
    assert order.status == "failed"
    assert _stock(order) == 1


def test_order_with_a_known_email_links_the_customer_and_leaves_its_row_unchanged(
    django_capture_on_commit_callbacks,
):
    # given a customer with no phone or address yet, and one with both
    blank = CustomerFactory(email="ada@example.com", name="Ada", phone="")
    filled = CustomerFactory(
        email="bob@example.com", name="Bob", phone="+33 4 72 00 00 00", address_line1="1 Rue X", address_city="Lyon"
    )
    before = {row["id"]: row for row in Customer.objects.values()}
    variant = VariantFactory(stock=5)
    address = services.ShippingAddress(line1="9 Stranger Rd", city="Austin", province="TX", country_code="US")

    # when strangers order with their emails
    with django_capture_on_commit_callbacks(execute=False):
        orders = [
            services.order_place(
                email=f" {email.upper()} ",
                name="Someone Else",
                phone="+1 512 555 0199",
                address=address,
                lines=[services.OrderLineInput(variant_id=variant.pk, quantity=1)],
                logistic_name="CJPacket Ordinary",
                shipping_total=Decimal("3.00"),
            )[0]
            for email in ("ada@example.com", "bob@example.com")
        ]

    # then the orders hold the details they were given, and the customers are untouched
    assert [order.customer_id for order in orders] == [blank.pk, filled.pk]
    assert [
        (order.email, order.phone, order.shipping_name, order.shipping_line1, order.shipping_city) for order in orders
    ] == [
        ("ada@example.com", "+1 512 555 0199", "Someone Else", "9 Stranger Rd", "Austin"),
        ("bob@example.com", "+1 512 555 0199", "Someone Else", "9 Stranger Rd", "Austin"),
    ]
    assert {row["id"]: row for row in Customer.objects.values()} == before


def test_order_with_a_new_email_creates_the_customer_with_the_orders_details(django_capture_on_commit_callbacks):
    variant = VariantFactory(stock=5)
    address = services.ShippingAddress(
        line1="1 Main St", line2="Apt 2", city="Austin", province="TX", zip="78701", country_code="us"
    )

    with django_capture_on_commit_callbacks(execute=False):
        order, created = services.order_place(
            email=" Ada@Example.com ",
            name="Ada Lovelace",
            phone="+1 512 555 0100",
            address=address,
            lines=[services.OrderLineInput(variant_id=variant.pk, quantity=1)],
            logistic_name="CJPacket Ordinary",
            shipping_total=Decimal("3.00"),
        )

    customer = Customer.objects.get()
    assert (created, order.customer_id) == (True, customer.pk)
    assert (customer.email, customer.name, customer.phone, customer.source, customer.has_marketing_consent) == (
        "ada@example.com",
        "Ada Lovelace",
        "+1 512 555 0100",
        "order",
        False,
    )
    assert customer.shipping_address == {
        "line1": "1 Main St",
        "line2": "Apt 2",
        "city": "Austin",
        "province": "TX",
        "zip": "78701",
        "country_code": "US",
    }


@pytest.mark.parametrize("gone", ["variant", "product"])
def test_retry_refused_when_a_variant_is_no_longer_sold(gone):
    # given: CJ refused the variant, and our catalog has since taken it (or its product) off sale
    order = _reserved_order(stock_left=5, quantity=2, status=Order.Status.FORWARDING)
    services.order_fail(order_id=order.pk, reason="variant_unavailable", message="variant off sale")
    variant = Variant.objects.get(pk=order.items.get().variant_id)
    if gone == "variant":
        Variant.objects.filter(pk=variant.pk).update(status=Variant.Status.INACTIVE)
    else:
        Product.objects.filter(pk=variant.product_id).update(status=Product.Status.INACTIVE)

    # when
    with pytest.raises(services.OrderRejected) as refused:
        services.order_retry_forwarding(order_id=order.pk)

    # then: it says why, and nothing is reserved or queued
    assert (refused.value.status, refused.value.code, refused.value.message) == (
        409,
        "conflict",
        f"Order {order.number} cannot be retried: variant {variant.sku} is no longer sold (inactive in the "
        "catalog), so CJ would refuse it again; cancel the order instead.",
    )
    order.refresh_from_db()
    assert (order.status, order.failure_reason) == ("failed", "variant_unavailable")
    assert _stock(order) == 7
    assert order.events.count() == 1


@pytest.mark.parametrize("status", [Order.Status.PENDING, Order.Status.PLACED, Order.Status.CANCELLED])
def test_retry_of_an_order_that_is_not_failed_is_refused(status):
    order = _reserved_order(status=status)

    with pytest.raises(services.OrderRejected) as refused:
        services.order_retry_forwarding(order_id=order.pk)

    assert refused.value.message == (
        f"Order {order.number} is {Order.Status(status).label}, not failed: there is nothing to retry."
    )
    assert _stock(order) == 5
    assert order.events.count() == 0


def test_retry_refusal_names_every_line_no_longer_sold():
    order = OrderFactory(items=[], status=Order.Status.FAILED, failure_reason="variant_unavailable")
    for sku in ("MUG-RED", "MUG-BLUE"):
        OrderItemFactory(order=order, variant=VariantFactory(sku=sku, status=Variant.Status.INACTIVE), quantity=1)
    OrderItemFactory(order=order, variant=VariantFactory(sku="MUG-OK"), quantity=1)

    with pytest.raises(services.OrderRejected) as refused:
        services.order_retry_forwarding(order_id=order.pk)

    assert refused.value.message == (
        f"Order {order.number} cannot be retried: variants MUG-RED, MUG-BLUE are no longer sold (inactive in the "
        "catalog), so CJ would refuse it again; cancel the order instead."
    )
