"""The bulk write path: CJ's typed products in, changed rows out.

Reads the existing rows of a batch in two queries, compares field by field in Python and writes
only what differs, with one `INSERT … ON CONFLICT DO UPDATE` per table. Unchanged data writes
nothing; staff-edited names and descriptions are kept; a variant without a stock answer keeps its
stock. Caches of the changed products and prices are invalidated after commit.
"""

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog.cache import catalog_cache_invalidate
from catalog.models import Category, Product, Variant
from catalog.pricing import CENT, PricingRule, current_rule
from catalog.services import products_aggregates_refresh
from integrations.cj import types as cj

logger = logging.getLogger(__name__)

# `last_seen_at` is refreshed at most this often, so an unchanged catalog writes nothing.
SEEN_PRECISION = timedelta(hours=12)

PRODUCT_FIELDS = (
    "sku",
    "name",
    "description",
    "images",
    "category_id",
    "status",
    "cj_price_low",
    "cj_price_high",
    "currency",
    "consecutive_misses",
)
VARIANT_FIELDS = (
    "product_id",
    "sku",
    "name",
    "option_values",
    "image",
    "supplier_cost",
    "price",
    "currency",
    "stock",
    "weight_grams",
    "status",
)


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    variants_written: int = 0
    product_ids: dict[str, int] = field(default_factory=dict)  # cj_pid -> id, every product of the batch
    changed_product_ids: set[int] = field(default_factory=set)
    changed_price_variant_ids: set[int] = field(default_factory=set)

    def add(self, other: "UpsertResult") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.variants_written += other.variants_written
        self.product_ids.update(other.product_ids)
        self.changed_product_ids |= other.changed_product_ids
        self.changed_price_variant_ids |= other.changed_price_variant_ids


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal("0")).quantize(CENT)


def _categories_upsert(products: Sequence[cj.Product]) -> dict[str, int]:
    wanted = {p.category_id: (p.category_name or p.category_id) for p in products if p.category_id}
    if not wanted:
        return {}
    existing = {c.cj_category_id: c for c in Category.objects.filter(cj_category_id__in=wanted)}
    to_write = [
        Category(cj_category_id=cj_id, name=name[:200])
        for cj_id, name in wanted.items()
        if cj_id not in existing or existing[cj_id].name != name[:200]
    ]
    if to_write:
        Category.objects.bulk_create(
            to_write, update_conflicts=True, unique_fields=["cj_category_id"], update_fields=["name", "updated_at"]
        )
        existing = {c.cj_category_id: c for c in Category.objects.filter(cj_category_id__in=wanted)}
    return {cj_id: category.pk for cj_id, category in existing.items()}


def _product_values(product: cj.Product, category_ids: dict[str, int], current: dict[str, Any] | None) -> dict:
    values = {
        "sku": product.sku[:100],
        "name": product.name[:500],
        "description": product.description,
        "images": list(product.images),
        "category_id": category_ids.get(product.category_id) if product.category_id else None,
        "status": Product.Status.ACTIVE if product.is_on_sale else Product.Status.INACTIVE,
        "cj_price_low": _money(product.sell_price.low),
        "cj_price_high": _money(product.sell_price.high),
        "currency": settings.CATALOG_CURRENCY,
        "consecutive_misses": 0,
    }
    if current is not None:
        if current["has_staff_name"]:
            values["name"] = current["name"]
        if current["has_staff_description"]:
            values["description"] = current["description"]
    return values


def _variant_values(
    variant: cj.Variant, product_id: int, rule: PricingRule, current: dict[str, Any] | None
) -> dict[str, Any]:
    cost = _money(variant.sell_price)
    stock = variant.stock
    if stock is None:  # no stock answer: keep what we hold
        stock = current["stock"] if current is not None else 0
    return {
        "product_id": product_id,
        "sku": variant.sku[:100],
        "name": variant.name[:500],
        "option_values": list(variant.option_values),
        "image": variant.image[:1000],
        "supplier_cost": cost,
        "price": rule.price_for(cost),
        "currency": settings.CATALOG_CURRENCY,
        "stock": max(int(stock), 0),
        "weight_grams": _money(variant.weight_grams) if variant.weight_grams is not None else None,
        "status": Variant.Status.ACTIVE,
    }


def _differs(current: dict[str, Any], values: dict[str, Any]) -> bool:
    return any(current[name] != value for name, value in values.items())


@transaction.atomic
def products_upsert(
    *, products: Sequence[cj.Product], now: datetime | None = None, rule: PricingRule | None = None
) -> UpsertResult:
    """Create or update these CJ products and their variants in bulk, re-pricing every variant.

    Writes only rows whose data differ; keeps staff-edited names and descriptions; keeps the stock
    of a variant CJ sent no inventory for; deactivates variants a product no longer lists.
    Invalidates the changed products' caches after commit. Returns the counts and ids.
    """
    now = now or timezone.now()
    rule = rule or current_rule()
    result = UpsertResult()
    # The last answer for a pid wins if a batch holds it twice.
    products = list({product.pid: product for product in products}.values())
    if not products:
        return result
    category_ids = _categories_upsert(products)
    current_products = {
        row["cj_pid"]: row
        for row in Product.objects.filter(cj_pid__in=[p.pid for p in products]).values(
            "id", "cj_pid", "has_staff_name", "has_staff_description", "last_seen_at", *PRODUCT_FIELDS
        )
    }
    product_rows: list[dict[str, Any]] = []
    seen_stale: list[int] = []
    for product in products:
        current = current_products.get(product.pid)
        values = _product_values(product, category_ids, current)
        if current is None:
            product_rows.append({"cj_pid": product.pid, **values})
            result.created += 1
        elif _differs(current, values):
            product_rows.append({"cj_pid": product.pid, **values})
        else:
            result.product_ids[product.pid] = current["id"]
            if current["last_seen_at"] is None or current["last_seen_at"] < now - SEEN_PRECISION:
                seen_stale.append(current["id"])
    if seen_stale:
        Product.objects.filter(pk__in=seen_stale).update(last_seen_at=now)
    if product_rows:
        ids = _products_write(product_rows, now=now)
        for row in product_rows:
            product_id = ids[row["cj_pid"]]
            result.product_ids[row["cj_pid"]] = product_id
            result.changed_product_ids.add(product_id)

    _variants_upsert(products, result, rule=rule, now=now)
    existing_ids = {row["id"] for row in current_products.values()}
    result.updated = len(existing_ids & result.changed_product_ids)
    result.unchanged = len(products) - result.created - result.updated
    products_aggregates_refresh(product_ids=result.changed_product_ids)
    changed_products = set(result.changed_product_ids)
    changed_prices = set(result.changed_price_variant_ids)
    transaction.on_commit(lambda: catalog_cache_invalidate(product_ids=changed_products, variant_ids=changed_prices))
    return result


def _variants_upsert(products: Sequence[cj.Product], result: UpsertResult, *, rule: PricingRule, now: datetime) -> None:
    incoming = [(variant, result.product_ids[product.pid]) for product in products for variant in product.variants]
    current_variants = _variants_current([variant.vid for variant, _ in incoming])
    rows: list[dict[str, Any]] = []
    for variant, product_id in {v.vid: (v, pid) for v, pid in incoming}.values():
        current = current_variants.get(variant.vid)
        values = _variant_values(variant, product_id, rule, current)
        if current is not None and not _differs(current, values):
            continue
        rows.append({"cj_vid": variant.vid, "stock_updated_at": now if variant.stock is not None else None, **values})
        result.changed_product_ids.add(product_id)
        if current is not None and current["product_id"] != product_id:
            result.changed_product_ids.add(current["product_id"])
    if rows:
        ids = _variants_write(rows)
        result.variants_written += len(rows)
        for row in rows:
            current = current_variants.get(row["cj_vid"])
            if current is None or current["price"] != row["price"]:
                result.changed_price_variant_ids.add(ids[row["cj_vid"]])
    # Variants a product no longer lists are retired (only when CJ listed some for it).
    listed = {product.pid: [variant.vid for variant in product.variants] for product in products if product.variants}
    retired = _variants_retire(product_ids=[result.product_ids[pid] for pid in listed], keep=_flatten(listed.values()))
    result.changed_product_ids.update(retired)


# One statement per table and page, the rows passed as one JSON document: Django's bulk_create
# binds one parameter per value, and arrays are quoted element by element by the client-side
# cursor; both cost more than the database work at thousands of rows. json.dumps is C.
_PRODUCTS_UPSERT_SQL = """
INSERT INTO catalog_product (cj_pid, sku, name, description, images, category_id, status, cj_price_low, cj_price_high,
                             currency, consecutive_misses, has_staff_name, has_staff_description, min_price,
                             max_price, is_in_stock, last_seen_at, last_synced_at, created_at, updated_at)
SELECT cj_pid, sku, name, description, images, category_id, status, cj_price_low, cj_price_high,
       currency, consecutive_misses, FALSE, FALSE, 0, 0, FALSE, %(now)s, %(now)s, NOW(), NOW()
  FROM jsonb_to_recordset(%(rows)s::jsonb)
    AS t(cj_pid text, sku text, name text, description text, images jsonb, category_id bigint, status text,
         cj_price_low numeric, cj_price_high numeric, currency text, consecutive_misses integer)
ON CONFLICT (cj_pid) DO UPDATE SET
    sku = EXCLUDED.sku, name = EXCLUDED.name, description = EXCLUDED.description, images = EXCLUDED.images,
    category_id = EXCLUDED.category_id, status = EXCLUDED.status, cj_price_low = EXCLUDED.cj_price_low,
    cj_price_high = EXCLUDED.cj_price_high, currency = EXCLUDED.currency,
    consecutive_misses = EXCLUDED.consecutive_misses, last_seen_at = EXCLUDED.last_seen_at,
    last_synced_at = EXCLUDED.last_synced_at, updated_at = NOW()
RETURNING cj_pid, id
"""

_VARIANTS_UPSERT_SQL = """
INSERT INTO catalog_variant (cj_vid, product_id, sku, name, option_values, image, supplier_cost, price, currency,
                             stock, stock_updated_at, weight_grams, status, created_at, updated_at)
SELECT cj_vid, product_id, sku, name, option_values, image, supplier_cost, price, currency,
       stock, stock_updated_at, weight_grams, status, NOW(), NOW()
  FROM jsonb_to_recordset(%s::jsonb)
    AS t(cj_vid text, product_id bigint, sku text, name text, option_values jsonb, image text, supplier_cost numeric,
         price numeric, currency text, stock integer, stock_updated_at timestamptz, weight_grams numeric, status text)
ON CONFLICT (cj_vid) DO UPDATE SET
    product_id = EXCLUDED.product_id, sku = EXCLUDED.sku, name = EXCLUDED.name,
    option_values = EXCLUDED.option_values, image = EXCLUDED.image, supplier_cost = EXCLUDED.supplier_cost,
    price = EXCLUDED.price, currency = EXCLUDED.currency, stock = EXCLUDED.stock,
    stock_updated_at = COALESCE(EXCLUDED.stock_updated_at, catalog_variant.stock_updated_at),
    weight_grams = EXCLUDED.weight_grams, status = EXCLUDED.status, updated_at = NOW()
RETURNING cj_vid, id
"""


def _json_default(value: Any) -> str:
    # Decimals travel as strings (exact, cast to numeric by PostgreSQL), datetimes as ISO 8601.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _products_write(rows: list[dict[str, Any]], *, now: datetime) -> dict[str, int]:
    """Insert or update these product rows in one statement; returns cj_pid -> id."""
    with connection.cursor() as cursor:
        cursor.execute(_PRODUCTS_UPSERT_SQL, {"rows": json.dumps(rows, default=_json_default), "now": now})
        return dict(cursor.fetchall())


def _variants_write(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert or update these variant rows in one statement; returns cj_vid -> id."""
    with connection.cursor() as cursor:
        cursor.execute(_VARIANTS_UPSERT_SQL, [json.dumps(rows, default=_json_default)])
        return dict(cursor.fetchall())


def _flatten(groups: Iterable[list[str]]) -> list[str]:
    return [item for group in groups for item in group]


def _variants_current(vids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored fields of these variants, keyed by cj_vid (one array parameter, not one per vid)."""
    if not vids:
        return {}
    columns = ["id", "cj_vid", *VARIANT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM catalog_variant WHERE cj_vid = ANY(%s)",  # noqa: S608 - fixed names
            [vids],
        )
        current = {row[1]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
    for row in current.values():
        # Django's PostgreSQL backend hands jsonb over as text (JSONField decodes it); so do we.
        if isinstance(row["option_values"], str):
            row["option_values"] = json.loads(row["option_values"])
    return current


def _variants_retire(*, product_ids: list[int], keep: list[str]) -> set[int]:
    """Deactivate active variants of these products that CJ no longer lists; returns their product ids."""
    if not product_ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_variant SET status = 'inactive', updated_at = NOW()"
            " WHERE product_id = ANY(%s) AND status = 'active' AND NOT (cj_vid = ANY(%s)) RETURNING product_id",
            [product_ids, keep],
        )
        return {row[0] for row in cursor.fetchall()}
