"""The bulk write path: CJ's typed products in, changed rows out.

Per page of products: the products are compared field by field in Python with their stored rows
(one query), and only those that differ are written, in one `INSERT … ON CONFLICT DO UPDATE`.
The variants are copied (COPY) into a temporary table and merged by one statement that compares
in SQL and writes only rows whose data differ. A product's price range and in-stock flag are
computed here from the variants CJ lists, so a re-priced product is written once.

Unchanged data writes nothing; staff-edited names and descriptions are kept (descriptions are
sanitised, `catalog.content`); a variant without a stock answer keeps its stock (CJ's figure goes
to `cj_stock`, what we sell is derived as `catalog.stock` says); a cost change
beyond CATALOG_MAX_PRICE_CHANGE_PERCENT is held for staff (`catalog.pricing.cost_change_is_held`):
the page is filtered before the merge, so a held variant is staged with its stored cost and the
proposed one in `pending_supplier_cost`. Caches of the changed products and prices are invalidated after commit.

Where the plain path ends: this module is the sync's performance path. Its plain equivalent is
`Product.objects.bulk_create(..., update_conflicts=True)` for the products and, for the variants,
reading the stored rows, comparing them in Python and writing the changed ones with `bulk_create`
/ `bulk_update`, then `products_aggregates_refresh` for every product. That does the same and
is what to reach for first elsewhere; the hand-written SQL here is justified by `bench/sync.py`
(write path, variants per second; history in bench/NOTES.md), and its table names and status
values come from the models.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog.cache import catalog_cache_invalidate
from catalog.content import description_clean, image_url_clean, image_urls_clean
from catalog.models import Category, Product, Variant
from catalog.pricing import CENT, PricingRule, cost_change_is_held, cost_change_limit, current_rule
from catalog.services import products_aggregates_refresh
from catalog.stock import variants_stock_recompute
from catalog.sync.products_write import products_write
from integrations.cj import types as cj
from integrations.cj.coercion import MAX_COUNT, named_options

logger = logging.getLogger(__name__)

# `last_seen_at` is refreshed at most this often, so an unchanged catalog writes nothing.
SEEN_PRECISION = timedelta(hours=12)

PRODUCT_FIELDS = ("sku", "name", "description", "images", "category_id", "status", "cj_price_low", "cj_price_high",
                  "currency", "consecutive_misses", "min_price", "max_price", "is_in_stock")  # fmt: skip


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


def _product_values(
    product: cj.Product, category_ids: dict[str, int], aggregates: dict[str, Any] | None, current: dict[str, Any] | None
) -> dict:
    values = {
        "sku": product.sku[:100],
        "name": product.name[:500],
        "description": description_clean(product.description),
        "images": image_urls_clean(product.images),
        "category_id": category_ids.get(product.category_id) if product.category_id else None,
        "status": Product.Status.ACTIVE if product.is_on_sale else Product.Status.INACTIVE,
        "cj_price_low": _money(product.sell_price.low),
        "cj_price_high": _money(product.sell_price.high),
        "currency": settings.CATALOG_CURRENCY,
        "consecutive_misses": 0,
    }
    if aggregates is None:  # not known from this page: keep what we hold (refreshed in SQL afterwards)
        aggregates = _NO_VARIANTS if current is None else {name: current[name] for name in _NO_VARIANTS}
    values.update(aggregates)
    if current is not None:
        if current["has_staff_name"]:
            values["name"] = current["name"]
        if current["has_staff_description"]:
            values["description"] = current["description"]
    return values


_NO_VARIANTS = {"min_price": Decimal("0.00"), "max_price": Decimal("0.00"), "is_in_stock": False}


class _VariantRow(NamedTuple):
    """One variant as it will be stored, in the COPY's column order (`pid` gives way to the product id)."""

    vid: str
    pid: str
    sku: str
    name: str
    option_values: str  # JSON
    options: str  # JSON: [{"name", "value"}]
    image: str
    cost: Decimal
    price: Decimal
    stock: int | None  # None: CJ sent no inventory, keep what we hold
    weight_grams: Decimal | None
    pending_cost: Decimal | None  # CJ's cost when held for staff (`cost` is then the stored one)

    def copy_row(self, product_id: int) -> tuple:
        return (self.vid, product_id, *self[2:])


def _json_strings(values: Iterable[str]) -> str:
    """`json.dumps(list(values))` for strings, without its per-call set-up (it runs once per
    variant; bench/sync.py)."""
    return "[" + ", ".join(map(encode_basestring_ascii, values)) + "]"


def _json_options(pairs: Iterable[tuple[str, str]]) -> str:  # `[{"name": ..., "value": ...}]`, as `_json_strings`
    items = (f'{{"name": {encode_basestring_ascii(n)}, "value": {encode_basestring_ascii(v)}}}' for n, v in pairs)
    return "[" + ", ".join(items) + "]"


def _stored_costs(products: Sequence[cj.Product]) -> dict[str, Decimal]:
    """The stored cost of each of the page's variants we hold, by vid. One array parameter instead
    of the ORM's `cj_vid__in` (a placeholder per vid), which costs more than the rest of an
    unchanged page (bench/sync.py)."""
    vids = [variant.vid for product in products for variant in product.variants]
    if not vids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_STORED_COSTS_SQL, [vids])
        return dict(cursor.fetchall())


def _variant_rows(
    products: Sequence[cj.Product], rule: PricingRule, stored_costs: dict[str, Decimal]
) -> dict[str, _VariantRow]:
    """The page's variants priced by the rule, by vid (the last product listing a vid wins); a
    variant whose cost change is held keeps its stored cost."""
    prices: dict[Decimal, Decimal] = {}
    limit = cost_change_limit()
    rows: dict[str, _VariantRow] = {}
    for product in products:
        for variant in product.variants:
            cost, pending = _money(variant.sell_price), None
            stored = stored_costs.get(variant.vid)
            # An unchanged cost (most of a page) needs no check.
            changed = stored is not None and stored != cost
            if changed and stored is not None and cost_change_is_held(current=stored, proposed=cost, limit=limit):
                cost, pending = stored, cost
            price = prices.get(cost)
            if price is None:
                price = prices[cost] = rule.price_for(cost)
            stock = variant.stock
            rows[variant.vid] = _VariantRow(
                variant.vid,
                product.pid,
                variant.sku[:100],
                variant.name[:500],
                _json_strings(variant.option_values),
                _json_options(named_options(product.option_names, variant.option_values)),
                image_url_clean(variant.image)[:1000],
                cost,
                price,
                None if stock is None else min(max(stock, 0), MAX_COUNT),  # warehouses' sum fits the column
                None if variant.weight_grams is None else _money(variant.weight_grams),
                pending,
            )
    return rows


def _aggregates(products: Sequence[cj.Product], rows: dict[str, _VariantRow]) -> dict[str, dict[str, Any]]:
    """Price range and in-stock flag of the products whose active variants, once this page is
    written, are exactly the rows here: CJ listed variants for them, each with a stock answer.
    The same figures `products_aggregates_refresh` computes in SQL."""
    by_pid: dict[str, list[_VariantRow]] = defaultdict(list)
    for row in rows.values():
        by_pid[row.pid].append(row)
    aggregates = {}
    for product in products:
        listed = by_pid.get(product.pid)
        if product.variants and listed and all(row.stock is not None for row in listed):
            aggregates[product.pid] = {
                "min_price": min(row.price for row in listed),
                "max_price": max(row.price for row in listed),
                "is_in_stock": any(row.stock is not None and row.stock > 0 for row in listed),
            }
    return aggregates


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
    variant_rows = _variant_rows(products, rule, _stored_costs(products))
    aggregates = _aggregates(products, variant_rows)
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
        values = _product_values(product, category_ids, aggregates.get(product.pid), current)
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
        ids = products_write(product_rows, now=now)
        for row in product_rows:
            product_id = ids[row["cj_pid"]]
            result.product_ids[row["cj_pid"]] = product_id
            result.changed_product_ids.add(product_id)

    _variants_upsert(products, variant_rows, result, now=now)
    existing_ids = {row["id"] for row in current_products.values()}
    result.updated = len(existing_ids & result.changed_product_ids)
    result.unchanged = len(products) - result.created - result.updated
    # Price ranges this page could not tell (no stock answer, variants moved between products).
    known = {result.product_ids[pid] for pid in aggregates}
    products_aggregates_refresh(product_ids=result.changed_product_ids - known)
    changed_products = set(result.changed_product_ids)
    changed_prices = set(result.changed_price_variant_ids)
    transaction.on_commit(lambda: catalog_cache_invalidate(product_ids=changed_products, variant_ids=changed_prices))
    return result


def _variants_upsert(
    products: Sequence[cj.Product], rows: dict[str, _VariantRow], result: UpsertResult, *, now: datetime
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_INCOMING_SQL)
        with cursor.copy(_INCOMING_COPY_SQL) as copy:
            for row in rows.values():
                copy.write_row(row.copy_row(result.product_ids[row.pid]))
        cursor.execute(
            _VARIANTS_MERGE_SQL, {"now": now, "currency": settings.CATALOG_CURRENCY, "active": Variant.Status.ACTIVE}
        )
        written = cursor.fetchall()
        result.variants_written += len(written)
        held = [row[0] for row in written if row[4]]
        for variant_id, product_id, old_product_id, price_changed, _held in written:
            result.changed_product_ids.add(product_id)
            if old_product_id is not None and old_product_id != product_id:
                result.changed_product_ids.add(old_product_id)
            if price_changed:
                result.changed_price_variant_ids.add(variant_id)
        # Variants a product no longer lists are retired (only when CJ listed some for it).
        listed = [result.product_ids[product.pid] for product in products if product.variants]
        if listed:
            cursor.execute(
                _VARIANTS_RETIRE_SQL,
                {"product_ids": listed, "active": Variant.Status.ACTIVE, "inactive": Variant.Status.INACTIVE},
            )
            result.changed_product_ids.update(row[0] for row in cursor.fetchall())
    if held:  # derived again under the rows' locks; the in-stock flag follows what we sell
        variants_stock_recompute(variant_ids=held)
        products_aggregates_refresh(product_ids={row[1] for row in written if row[4]})


# Table names come from the models (never from input, hence the S608 exemptions); status values
# are parameters (`Variant.Status`).
_PRODUCT = Product._meta.db_table
_VARIANT = Variant._meta.db_table
# The page's variants, staged for the merge (a session's own table, emptied at commit).
_INCOMING = f"{_VARIANT}_incoming"
_STORED_COSTS_SQL = f"SELECT cj_vid, supplier_cost FROM {_VARIANT} WHERE cj_vid = ANY(%s)"  # noqa: S608

# The page's variants are copied (COPY, the fastest way in) into a temporary table, then merged
# by one statement that compares in SQL and writes only rows whose data differ. Plain
# equivalent: read the stored variants, compare in Python, `bulk_create` / `bulk_update` the
# changed ones (bench/sync.py).
_INCOMING_SQL = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {_INCOMING} (
    cj_vid text PRIMARY KEY, product_id bigint, sku text, name text, option_values jsonb, options jsonb, image text,
    supplier_cost numeric, price numeric, stock integer, weight_grams numeric, pending_supplier_cost numeric
) ON COMMIT DELETE ROWS;
DELETE FROM {_INCOMING};  -- left by an earlier call in the same transaction
"""  # noqa: S608
_INCOMING_COPY_SQL = (
    f"COPY {_INCOMING} (cj_vid, product_id, sku, name, option_values, options, image, supplier_cost, price, stock,"
    " weight_grams, pending_supplier_cost) FROM STDIN"
)
_VARIANTS_MERGE_SQL = f"""
WITH changed AS (
    SELECT i.*, v.id AS old_id, v.product_id AS old_product_id, v.price AS old_price,
           v.cj_stock AS old_cj_stock, v.stock AS old_stock
      FROM {_INCOMING} i
      -- One index probe per incoming row: as a plain join the planner may hash the whole table.
      LEFT JOIN LATERAL (SELECT * FROM {_VARIANT} WHERE cj_vid = i.cj_vid LIMIT 1) v ON TRUE
     WHERE v.id IS NULL
        OR (v.product_id, v.sku, v.name, v.option_values, v.options, v.image, v.supplier_cost, v.price, v.currency,
            v.cj_stock, v.weight_grams, v.status, v.pending_supplier_cost)
           IS DISTINCT FROM
           (i.product_id, i.sku, i.name, i.option_values, i.options, i.image, i.supplier_cost, i.price, %(currency)s,
            COALESCE(i.stock, v.cj_stock), i.weight_grams, %(active)s, i.pending_supplier_cost)
), written AS (
    INSERT INTO {_VARIANT} (cj_vid, product_id, sku, name, option_values, options, image, supplier_cost, price,
                            currency, stock, cj_stock, stock_updated_at, weight_grams, status, pending_supplier_cost,
                            pending_since, created_at, updated_at)
    SELECT cj_vid, product_id, sku, name, option_values, options, image, supplier_cost, price, %(currency)s,
           COALESCE(stock, 0), COALESCE(stock, 0), CASE WHEN stock IS NULL THEN NULL ELSE %(now)s::timestamptz END,
           weight_grams, %(active)s, pending_supplier_cost,
           CASE WHEN pending_supplier_cost IS NULL THEN NULL ELSE %(now)s::timestamptz END, NOW(), NOW()
      FROM changed
    ON CONFLICT (cj_vid) DO UPDATE SET
        product_id = EXCLUDED.product_id, sku = EXCLUDED.sku, name = EXCLUDED.name,
        option_values = EXCLUDED.option_values, options = EXCLUDED.options, image = EXCLUDED.image,
        supplier_cost = EXCLUDED.supplier_cost, price = EXCLUDED.price, currency = EXCLUDED.currency,
        -- No stock answer (stock_updated_at NULL): keep the stock we hold. Else CJ's figure, less
        -- what our orders held under the old one (the rows flagged below are derived again).
        cj_stock = CASE WHEN EXCLUDED.stock_updated_at IS NULL THEN {_VARIANT}.cj_stock ELSE EXCLUDED.cj_stock END,
        stock = CASE WHEN EXCLUDED.stock_updated_at IS NULL THEN {_VARIANT}.stock
                     ELSE GREATEST(EXCLUDED.cj_stock - ({_VARIANT}.cj_stock - {_VARIANT}.stock), 0) END,
        stock_updated_at = COALESCE(EXCLUDED.stock_updated_at, {_VARIANT}.stock_updated_at),
        weight_grams = EXCLUDED.weight_grams, status = EXCLUDED.status,
        -- A hold keeps the day it started while CJ keeps proposing; no proposal clears it.
        pending_supplier_cost = EXCLUDED.pending_supplier_cost,
        pending_since = CASE WHEN EXCLUDED.pending_supplier_cost IS NULL THEN NULL
                             ELSE COALESCE({_VARIANT}.pending_since, EXCLUDED.pending_since) END,
        updated_at = NOW()
    RETURNING id, cj_vid, product_id, price
)
SELECT w.id, w.product_id, c.old_product_id, c.old_id IS NOT NULL AND c.old_price IS DISTINCT FROM w.price,
       -- A new CJ figure where our orders may hold units (stock below CJ's, or none left).
       c.old_id IS NOT NULL AND c.stock != c.old_cj_stock AND (c.old_stock != c.old_cj_stock OR c.old_stock = 0)
  FROM written w JOIN changed c ON c.cj_vid = w.cj_vid
"""  # noqa: S608
_VARIANTS_RETIRE_SQL = f"""
UPDATE {_VARIANT} v SET status = %(inactive)s, updated_at = NOW()
 WHERE v.product_id = ANY(%(product_ids)s) AND v.status = %(active)s
   AND NOT EXISTS (SELECT 1 FROM {_INCOMING} i WHERE i.cj_vid = v.cj_vid)
RETURNING v.product_id
"""  # noqa: S608
