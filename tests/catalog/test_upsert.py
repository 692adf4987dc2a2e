"""The bulk write path, fed with the CJ client's dataclasses directly."""

from decimal import Decimal

import pytest

from catalog.models import Category, Product, Variant
from catalog.services import product_update_by_staff
from catalog.sync.upsert import products_upsert
from tests.catalog.factories import cj_product, cj_variant

pytestmark = pytest.mark.django_db


def test_creates_products_variants_and_categories_with_our_prices():
    # when
    result = products_upsert(products=[cj_product(pid="P1"), cj_product(pid="P2", category_id="CAT-2")])

    # then
    assert (result.created, result.updated, result.unchanged, result.variants_written) == (2, 0, 0, 4)
    product = Product.objects.get(cj_pid="P1")
    assert product.name == "CJ product P1"
    assert product.images == ["https://img.example.test/P1-a.jpg", "https://img.example.test/P1-b.jpg"]
    assert product.category.cj_category_id == "CAT-1"
    assert (product.min_price, product.max_price, product.is_in_stock) == (Decimal("9.90"), Decimal("13.90"), True)
    assert list(product.variants.order_by("cj_vid").values_list("cj_vid", "supplier_cost", "price", "stock")) == [
        ("P1-1", Decimal("4.00"), Decimal("9.90"), 10),
        ("P1-2", Decimal("6.00"), Decimal("13.90"), 10),
    ]
    assert set(Category.objects.values_list("cj_category_id", flat=True)) == {"CAT-1", "CAT-2"}


def test_same_data_again_writes_nothing(django_assert_max_num_queries):
    products = [cj_product(pid=f"P{n}") for n in range(5)]
    products_upsert(products=products)
    stamps = dict(Variant.objects.values_list("cj_vid", "updated_at"))
    product_stamps = dict(Product.objects.values_list("cj_pid", "updated_at"))

    # Categories, products, variants, retire check (+ savepoint and release).
    with django_assert_max_num_queries(6) as captured:
        result = products_upsert(products=products)

    assert (result.created, result.updated, result.unchanged, result.variants_written) == (0, 0, 5, 0)
    assert result.changed_product_ids == set()
    # No INSERT; the one UPDATE (retiring variants CJ no longer lists) matches no row, as the
    # unchanged updated_at stamps below show.
    statements = [q["sql"].lstrip().split()[0].upper() for q in captured.captured_queries]
    assert "INSERT" not in statements
    assert statements.count("UPDATE") == 1
    assert dict(Variant.objects.values_list("cj_vid", "updated_at")) == stamps
    assert dict(Product.objects.values_list("cj_pid", "updated_at")) == product_stamps


def test_price_change_reprices_only_that_variant():
    products_upsert(products=[cj_product(pid="P1")])
    other = Variant.objects.get(cj_vid="P1-2").updated_at
    changed = cj_product(
        pid="P1",
        variants=(cj_variant(vid="P1-1", pid="P1", price="5.00"), cj_variant(vid="P1-2", pid="P1", price="6.00")),
    )

    result = products_upsert(products=[changed])

    assert (result.created, result.updated, result.unchanged, result.variants_written) == (0, 1, 0, 1)
    assert Variant.objects.get(cj_vid="P1-1").price == Decimal("11.90")
    assert Variant.objects.get(cj_vid="P1-2").updated_at == other
    assert Product.objects.get(cj_pid="P1").min_price == Decimal("11.90")
    assert result.changed_price_variant_ids == {Variant.objects.get(cj_vid="P1-1").pk}


def test_staff_edits_survive_a_sync():
    products_upsert(products=[cj_product(pid="P1")])
    product = Product.objects.get(cj_pid="P1")
    product_update_by_staff(product=product, name="Our better name", description=product.description, status="active")

    products_upsert(products=[cj_product(pid="P1", name="CJ renamed it")])

    product.refresh_from_db()
    assert (product.name, product.has_staff_name, product.has_staff_description) == ("Our better name", True, False)
    assert product.description == "<p>About P1</p>"


def test_missing_stock_answer_keeps_stock_and_listed_variants_retire():
    products_upsert(products=[cj_product(pid="P1")])
    Variant.objects.filter(cj_vid="P1-1").update(stock=7)

    result = products_upsert(products=[cj_product(pid="P1", variants=(cj_variant(vid="P1-1", pid="P1", stock=None),))])

    assert dict(Variant.objects.values_list("cj_vid", "stock")) == {"P1-1": 7, "P1-2": 10}
    assert dict(Variant.objects.values_list("cj_vid", "status")) == {"P1-1": "active", "P1-2": "inactive"}
    assert result.updated == 1
    assert Product.objects.get(cj_pid="P1").max_price == Decimal("9.90")


def test_off_sale_product_becomes_inactive():
    products_upsert(products=[cj_product(pid="P1")])

    products_upsert(products=[cj_product(pid="P1", is_on_sale=False)])

    assert Product.objects.get(cj_pid="P1").status == Product.Status.INACTIVE
