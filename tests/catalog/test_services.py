from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Product, Variant
from catalog.services import (
    products_aggregates_refresh,
    products_record_misses,
    variant_update_from_cj,
    variants_reprice,
)
from catalog.stock import variant_stock_reserve, variant_stock_set
from tests.catalog.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_two_consecutive_misses_deactivate_a_product():
    kept, missing = ProductFactory(cj_pid="KEPT"), ProductFactory(cj_pid="GONE")

    assert products_record_misses(missing_pids={"GONE"}) == 0
    missing.refresh_from_db()
    assert (missing.status, missing.consecutive_misses) == ("active", 1)

    assert products_record_misses(missing_pids={"GONE"}) == 1
    missing.refresh_from_db()
    kept.refresh_from_db()
    assert (missing.status, missing.consecutive_misses) == ("inactive", 2)
    assert (kept.status, kept.consecutive_misses) == ("active", 0)


def test_stock_update_older_than_ours_is_ignored():
    now = timezone.now()
    variant = VariantFactory(stock=5, stock_updated_at=now)

    assert variant_stock_set(cj_vid=variant.cj_vid, stock=1, as_of=now - timedelta(minutes=1)) is None
    variant.refresh_from_db()
    assert variant.stock == 5

    assert variant_stock_set(cj_vid=variant.cj_vid, stock=0, as_of=now + timedelta(minutes=1)) is not None
    variant.refresh_from_db()
    assert variant.stock == 0
    assert Product.objects.get(pk=variant.product_id).is_in_stock is False


def test_reserve_never_takes_more_than_the_stock():
    variant = VariantFactory(stock=3)

    assert variant_stock_reserve(variant_id=variant.pk, quantity=2) is True
    assert variant_stock_reserve(variant_id=variant.pk, quantity=2) is False

    variant.refresh_from_db()
    assert variant.stock == 1


def test_variant_cost_change_from_cj_is_repriced(settings):
    settings.CATALOG_MAX_PRICE_CHANGE_PERCENT = 0  # no hold: this +150 % applies at once
    variant = VariantFactory(supplier_cost=Decimal("4.00"), price=Decimal("9.90"))

    variant_update_from_cj(cj_vid=variant.cj_vid, supplier_cost=Decimal("10.00"))

    variant.refresh_from_db()
    assert (variant.supplier_cost, variant.price) == (Decimal("10.00"), Decimal("21.90"))
    assert Product.objects.get(pk=variant.product_id).min_price == Decimal("21.90")


def test_changing_the_rule_reprices_every_variant(settings):
    first = VariantFactory(supplier_cost=Decimal("4.00"), price=Decimal("9.90"))
    second = VariantFactory(supplier_cost=Decimal("5.00"), price=Decimal("11.90"))
    products_aggregates_refresh(product_ids=[first.product_id, second.product_id])
    settings.CATALOG_PRICE_MARKUP = "3"

    assert variants_reprice() == 2

    assert dict(Variant.objects.values_list("pk", "price")) == {first.pk: Decimal("13.90"), second.pk: Decimal("16.90")}
    assert variants_reprice() == 0
