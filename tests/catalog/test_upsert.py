"""The bulk write path, fed with the CJ client's dataclasses directly."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from catalog.models import Category, Product, Variant
from catalog.services import product_update_by_staff, products_aggregates_refresh
from catalog.sync import upsert
from catalog.sync.upsert import products_upsert
from integrations.cj.responses import parse_product
from tests.catalog.factories import cj_product, cj_variant

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "cj"

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


def _catalog_rows_written() -> dict[str, int]:
    """Rows inserted, updated or deleted in the catalog tables by this transaction so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
            " WHERE schemaname = 'public' AND relname LIKE 'catalog%%'"
        )
        return dict(cursor.fetchall())


def test_same_data_again_writes_nothing(django_assert_max_num_queries):
    products = [cj_product(pid=f"P{n}") for n in range(5)]
    products_upsert(products=products)
    stamps = dict(Variant.objects.values_list("cj_vid", "updated_at"))
    product_stamps = dict(Product.objects.values_list("cj_pid", "updated_at"))
    written_before = _catalog_rows_written()

    # A fixed number of statements whatever the page size: categories, products, the stored costs
    # (the price-change hold), the incoming variants' table and its COPY, the merge, the retire
    # check (+ savepoint and release).
    with django_assert_max_num_queries(9):
        result = products_upsert(products=products)

    assert (result.created, result.updated, result.unchanged, result.variants_written) == (0, 0, 5, 0)
    assert result.changed_product_ids == set()
    assert _catalog_rows_written() == written_before
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


def test_price_ranges_match_what_sql_computes_for_every_shape_of_page(settings):
    settings.CATALOG_MAX_PRICE_CHANGE_PERCENT = 0  # these cost changes are large: no hold here
    # Ranges are computed in Python when the page tells them, in SQL otherwise; both must agree.
    products_upsert(products=[cj_product(pid="P1"), cj_product(pid="P2"), cj_product(pid="P3")])
    Variant.objects.filter(cj_vid="P3-1").update(stock=0)
    page = [
        # a new price and no stock left
        cj_product(pid="P1", variants=(cj_variant(vid="P1-1", pid="P1", price="8.00", stock=0),)),
        # no stock answer: the stock held decides
        cj_product(pid="P3", variants=(cj_variant(vid="P3-1", pid="P3", stock=None),)),
        # P2-2 moves to a new product; P2 keeps P2-1 only
        cj_product(pid="P2", variants=(cj_variant(vid="P2-1", pid="P2", price="1.00"),)),
        cj_product(pid="P4", variants=(cj_variant(vid="P2-2", pid="P4", price="3.00"),)),
        # listed twice in one page: the last product listing a variant gets it
        cj_product(pid="P5", variants=(cj_variant(vid="P5-1", pid="P5"), cj_variant(vid="P6-1", pid="P5"))),
        cj_product(pid="P6", variants=(cj_variant(vid="P6-1", pid="P6", price="20.00"),)),
        # no variants listed: the ones held stay
        cj_product(pid="P7", variants=()),
    ]

    with transaction.atomic():  # twice in one transaction: the incoming rows of the first are gone
        products_upsert(products=page)
        products_upsert(products=page)

    ids = list(Product.objects.values_list("pk", flat=True))
    assert products_aggregates_refresh(product_ids=ids) == set()
    ranges = {p.cj_pid: (p.min_price, p.max_price, p.is_in_stock) for p in Product.objects.all()}
    assert ranges["P1"] == (Decimal("17.90"), Decimal("17.90"), False)
    assert ranges["P2"] == (Decimal("3.90"), Decimal("3.90"), True)
    assert ranges["P3"] == (Decimal("9.90"), Decimal("9.90"), False)
    assert ranges["P4"] == (Decimal("7.90"), Decimal("7.90"), True)
    assert Variant.objects.get(cj_vid="P6-1").product.cj_pid == "P6"
    assert ranges["P5"][:2] == (Decimal("9.90"), Decimal("9.90"))
    assert ranges["P7"] == (Decimal("0.00"), Decimal("0.00"), False)


def test_the_variant_merge_looks_up_stored_variants_by_index_whatever_the_statistics():
    # given: stored variants PostgreSQL has no statistics for yet (as during a first sync), and a
    # page staged in the incoming table as products_upsert leaves it
    products_upsert(products=[cj_product(pid=f"P{n}") for n in range(50)])
    with connection.cursor() as cursor:
        cursor.execute(upsert._INCOMING_SQL)
        cursor.execute(
            "INSERT INTO catalog_variant_incoming (cj_vid, product_id) SELECT cj_vid, product_id FROM catalog_variant"
        )

        # when
        cursor.execute(
            "EXPLAIN " + upsert._VARIANTS_MERGE_SQL,
            {"now": timezone.now(), "currency": "USD", "active": Variant.Status.ACTIVE},
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # then: one index probe per incoming row, never a scan of the whole table
    assert "Index Scan using catalog_variant_cj_vid_uniq on catalog_variant" in plan
    assert not re.search(r"Seq Scan on catalog_variant(?!_incoming)", plan), plan


def test_variants_store_their_options_named_after_cjs_product_keys():
    """CJ's own sample (product/query): productKeyEn "Color-Size", variantKey "Black-M" / "White-L"."""
    sample = json.loads((SAMPLES / "product_query.json").read_text())["data"]
    products_upsert(products=[parse_product(sample)])

    assert list(Variant.objects.order_by("cj_vid").values_list("option_values", "options")) == [
        (["Black", "M"], [{"name": "Color", "value": "Black"}, {"name": "Size", "value": "M"}]),
        (["White", "L"], [{"name": "Color", "value": "White"}, {"name": "Size", "value": "L"}]),
    ]
    # the same page again writes nothing
    assert products_upsert(products=[parse_product(sample)]).variants_written == 0
