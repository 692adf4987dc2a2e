"""Stock that tells the truth (catalog/stock.py): CJ's figure and our orders' units kept apart,
through every writer (intake, order moves, STOCK figures, the product sync), and concurrent
intake under CJ's figures on real PostgreSQL never oversells."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from catalog.models import Product, Variant
from catalog.services import products_aggregates_refresh
from catalog.stock import StockFigure, variant_stock_set, variants_cj_stock_apply
from catalog.sync.upsert import products_upsert
from orders import services
from orders.errors import OutOfStock
from orders.models import Order
from tests.catalog.factories import VariantFactory, cj_product, cj_variant

ADDRESS = services.ShippingAddress(line1="1 Main St", city="Austin", province="TX", zip="78701", country_code="US")


def _place(variant: Variant, quantity: int = 1, n: int = 0) -> Order:
    order, _created = services.order_place(
        email=f"buyer{n}@example.com",
        name="Ada Buyer",
        phone="",
        address=ADDRESS,
        lines=[services.OrderLineInput(variant_id=variant.pk, quantity=quantity)],
        logistic_name="CJPacket Ordinary",
        shipping_total=Decimal("3.00"),
        payment_reference=f"paid-elsewhere-{n}",  # paid: CJ may take it at once
    )
    return order


def _figures(variant: Variant) -> tuple[int, int]:
    """(what we sell, CJ's figure)."""
    variant.refresh_from_db()
    return variant.stock, variant.cj_stock


def _placed(order: Order, at) -> None:
    order = Order.objects.get(pk=order.pk)
    services.order_transition(order=order, to_status=Order.Status.FORWARDING, message="Forwarding to CJ.")
    services.order_transition(order=order, to_status=Order.Status.PLACED, message="Created at CJ.", placed_at=at)


@pytest.mark.django_db
def test_cj_figures_never_resurrect_units_and_a_failed_order_returns_only_what_cj_still_counts():
    t0 = timezone.now() - timedelta(hours=1)
    variant = VariantFactory(stock=10, cj_stock=10, stock_updated_at=t0)
    first, second, third = (_place(variant, n=n) for n in range(3))
    assert _figures(variant) == (7, 10)

    # CJ pushes its figure again: our three orders are not at CJ yet, so it counts their units.
    variant_stock_set(cj_vid=variant.cj_vid, stock=10, as_of=t0 + timedelta(minutes=1))
    assert _figures(variant) == (7, 10)

    # The first goes to CJ after that figure: still ours until a later figure counts it.
    _placed(first, at=t0 + timedelta(minutes=2))
    assert _figures(variant) == (7, 10)
    # CJ's next figure (taken after it placed the first) counts it: 9 - the two still ours.
    variant_stock_set(cj_vid=variant.cj_vid, stock=9, as_of=t0 + timedelta(minutes=3))
    assert _figures(variant) == (7, 9)

    # The second fails: CJ's figure still counts its unit, so it comes back.
    services.order_fail(order_id=second.pk, reason=Order.FailureReason.REJECTED, message="no")
    assert _figures(variant) == (8, 9)

    # CJ sold elsewhere: 1 left, which the third order holds. The figure resurrects nothing.
    variant_stock_set(cj_vid=variant.cj_vid, stock=1, as_of=t0 + timedelta(minutes=4))
    assert _figures(variant) == (0, 1)
    with pytest.raises(OutOfStock):
        _place(variant, n=9)
    # A retry of the failed order finds nothing to take.
    with pytest.raises(OutOfStock):
        services.order_retry_forwarding(order_id=second.pk)

    # The third is cancelled: its unit returns, since CJ's figure counts it.
    services.order_cancel(order_id=third.pk)
    assert _figures(variant) == (1, 1)
    assert Product.objects.get(pk=variant.product_id).is_in_stock is True


@pytest.mark.django_db
def test_a_failed_order_returns_nothing_cj_no_longer_has():
    variant = VariantFactory(stock=3, cj_stock=3, stock_updated_at=timezone.now() - timedelta(hours=1))
    orders = [_place(variant, n=n) for n in range(3)]
    products_aggregates_refresh(product_ids=[variant.product_id])
    assert Product.objects.get(pk=variant.product_id).is_in_stock is False
    variant_stock_set(cj_vid=variant.cj_vid, stock=1)  # CJ sold two elsewhere

    services.order_fail(order_id=orders[0].pk, reason=Order.FailureReason.OUT_OF_STOCK, message="none")
    assert _figures(variant) == (0, 1)
    services.order_fail(order_id=orders[1].pk, reason=Order.FailureReason.OUT_OF_STOCK, message="none")
    assert _figures(variant) == (0, 1)
    services.order_fail(order_id=orders[2].pk, reason=Order.FailureReason.OUT_OF_STOCK, message="none")
    assert _figures(variant) == (1, 1)
    assert Product.objects.get(pk=variant.product_id).is_in_stock is True


@pytest.mark.django_db
def test_a_figure_taken_before_an_order_reached_cj_keeps_its_units_ours():
    now = timezone.now()
    variant = VariantFactory(stock=5, cj_stock=5, stock_updated_at=now - timedelta(hours=1))
    order = _place(variant, quantity=2)
    _placed(order, at=now)
    # Taken before CJ had the order (the stock refresh's call started earlier): CJ still counts it.
    variant_stock_set(cj_vid=variant.cj_vid, stock=5, as_of=now - timedelta(seconds=1))
    assert _figures(variant) == (3, 5)
    # An older figure than the one we hold changes nothing.
    assert variant_stock_set(cj_vid=variant.cj_vid, stock=50, as_of=now - timedelta(minutes=5)) is None
    assert _figures(variant) == (3, 5)
    # Taken after: CJ's 3 already leaves out the order's 2 units.
    variant_stock_set(cj_vid=variant.cj_vid, stock=3, as_of=now + timedelta(seconds=1))
    assert _figures(variant) == (3, 3)
    # Shipped and delivered change nothing; the order stays counted by CJ.
    order = Order.objects.get(pk=order.pk)
    services.order_transition(order=order, to_status=Order.Status.SHIPPED, message="Shipped.")
    assert _figures(variant) == (3, 3)


@pytest.mark.django_db
def test_an_order_placed_while_its_figure_was_applied_is_not_counted_twice():
    """CJ pushes its figure right after taking an order, before our forwarding job marks it placed:
    for that moment the units count twice (an under-sell); marking it placed, dated when it was
    sent, ends that."""
    sent_at = timezone.now()
    variant = VariantFactory(stock=4, cj_stock=4, stock_updated_at=sent_at - timedelta(hours=1))
    order = _place(variant)
    services.order_transition(order=order, to_status=Order.Status.FORWARDING, message="Forwarding to CJ.")
    variant_stock_set(cj_vid=variant.cj_vid, stock=3, as_of=sent_at + timedelta(milliseconds=50))
    assert _figures(variant) == (2, 3)

    order = Order.objects.get(pk=order.pk)
    services.order_transition(order=order, to_status=Order.Status.PLACED, message="Created.", placed_at=sent_at)
    assert _figures(variant) == (3, 3)


@pytest.mark.django_db
def test_figures_for_many_variants_apply_the_latest_per_variant_in_two_statements(django_assert_num_queries):
    now = timezone.now()
    first, second = VariantFactory(stock=1, cj_stock=1), VariantFactory(stock=0, cj_stock=0)
    figures = [
        StockFigure(cj_vid=first.cj_vid, stock=7, taken_at=now),
        StockFigure(cj_vid=first.cj_vid, stock=5, taken_at=now - timedelta(seconds=1)),  # older: loses
        StockFigure(cj_vid=second.cj_vid, stock=2, taken_at=now),
        StockFigure(cj_vid=second.cj_vid, stock=3, taken_at=now),  # a tie: the later one wins
        StockFigure(cj_vid="NOT-CARRIED", stock=9, taken_at=now),
    ]
    # lock, update, then the in-stock flag of the product whose variant crossed zero
    with django_assert_num_queries(3):
        applied = variants_cj_stock_apply(figures=figures)

    assert applied == {first.cj_vid, second.cj_vid}
    assert (_figures(first), _figures(second)) == ((7, 7), (3, 3))
    assert Variant.objects.get(pk=second.pk).stock_updated_at == now


@pytest.mark.django_db
def test_the_product_sync_records_cjs_figure_and_keeps_our_orders_units():
    products_upsert(products=[cj_product(pid="P1", variants=(cj_variant(vid="P1-1", pid="P1", stock=10),))])
    Product.objects.filter(cj_pid="P1").update(is_published=True)  # imported drafts are not sold
    variant = Variant.objects.get(cj_vid="P1-1")
    _place(variant, quantity=4)
    assert _figures(variant) == (6, 10)

    # the same figure: nothing written, our reservation stays
    products_upsert(products=[cj_product(pid="P1", variants=(cj_variant(vid="P1-1", pid="P1", stock=10),))])
    assert _figures(variant) == (6, 10)
    # CJ's figure drops to 4 (sold elsewhere): all of it is held by our order
    products_upsert(products=[cj_product(pid="P1", variants=(cj_variant(vid="P1-1", pid="P1", stock=4),))])
    assert _figures(variant) == (0, 4)
    assert Product.objects.get(cj_pid="P1").is_in_stock is False
    # and back up to 6: two to sell
    products_upsert(products=[cj_product(pid="P1", variants=(cj_variant(vid="P1-1", pid="P1", stock=6),))])
    assert _figures(variant) == (2, 6)
    assert Product.objects.get(cj_pid="P1").is_in_stock is True


@pytest.mark.django_db(transaction=True)
def test_concurrent_intake_under_cjs_pushes_never_oversells():
    """24 buyers race for 6 units on real PostgreSQL while CJ's figure (unchanged, since nothing
    reached CJ) is applied again and again: exactly 6 orders get through, and none of their units
    comes back."""
    variant = VariantFactory(stock=6, cj_stock=6, stock_updated_at=timezone.now() - timedelta(hours=1))
    start = threading.Barrier(24 + 2)
    accepted, refused, errors = [], [], []
    stop = threading.Event()

    def buyer(n: int) -> None:
        try:
            start.wait()
            accepted.append(_place(variant, n=n).number)
        except OutOfStock:
            refused.append(n)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connections.close_all()

    def cj_pushes() -> None:
        try:
            start.wait()
            while not stop.is_set():
                variant_stock_set(cj_vid=variant.cj_vid, stock=6)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(24)]
    threads += [threading.Thread(target=cj_pushes) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads[:24]:
        thread.join(timeout=60)
    stop.set()
    for thread in threads[24:]:
        thread.join(timeout=60)

    assert errors == []
    assert (len(accepted), len(refused)) == (6, 18)
    assert _figures(variant) == (0, 6)
    assert Order.objects.filter(status=Order.Status.PAID).count() == 6
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(quantity), 0) FROM orders_orderitem WHERE variant_id = %s", [variant.pk])
        assert cursor.fetchone() == (6,)


@pytest.mark.django_db(transaction=True)
def test_a_cj_figure_waiting_for_an_intake_sees_its_order_once_it_commits():
    """The figure's writer locks first and derives in a second statement: an intake that took a
    unit and commits while the figure waits for the row is counted (one statement would read the
    orders as of its start and give the unit back)."""
    variant = VariantFactory(stock=6, cj_stock=6, stock_updated_at=timezone.now() - timedelta(hours=1))
    taken, proceed, errors = threading.Event(), threading.Event(), []

    def intake() -> None:
        try:
            with transaction.atomic():
                _place(variant)
                taken.set()  # the unit is taken, the row locked, nothing committed yet
                proceed.wait(timeout=30)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connections.close_all()

    def cj_figure() -> None:
        try:
            variant_stock_set(cj_vid=variant.cj_vid, stock=6)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connections.close_all()

    buyer = threading.Thread(target=intake)
    buyer.start()
    assert taken.wait(timeout=30)
    push = threading.Thread(target=cj_figure)
    push.start()
    deadline = time.monotonic() + 10
    while not _waiting_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _waiting_for_a_lock()
    proceed.set()
    buyer.join(timeout=30)
    push.join(timeout=30)

    assert errors == []
    assert _figures(variant) == (5, 6)


def _waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] >= 1
