"""Catalog writes used by the sync, the webhooks, orders and the admin.

Every service that changes what the storefront sees invalidates the catalog caches after commit.
The bulk CJ write path lives in `catalog.sync.upsert.products_upsert`; stock (CJ's figures and our
orders' units) in `catalog.stock`.
"""

import logging
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from catalog.cache import catalog_cache_invalidate
from catalog.content import description_clean, image_urls_clean
from catalog.models import Product, Variant
from catalog.pricing import CENT, PricingRule, cost_change_is_held, current_rule

logger = logging.getLogger(__name__)
business_logger = logging.getLogger("business")

# Hand-written SQL takes its table names from the models (never from input, hence the S608
# exemptions) and its status values as parameters.
_PRODUCT = Product._meta.db_table
_VARIANT = Variant._meta.db_table

# Products missing from this many consecutive full syncs become inactive.
MISSES_BEFORE_INACTIVE = 2


def _invalidate_on_commit(
    *, product_ids: Iterable[int] = (), variant_ids: Iterable[int] = (), lists: bool = True
) -> None:
    product_ids, variant_ids = set(product_ids), set(variant_ids)
    if product_ids or variant_ids:
        transaction.on_commit(
            lambda: catalog_cache_invalidate(product_ids=product_ids, variant_ids=variant_ids, lists=lists)
        )


def products_aggregates_refresh(*, product_ids: Iterable[int]) -> set[int]:
    """Recompute min/max price and the in-stock flag of these products from their active variants.

    Writes only products whose figures changed; returns their ids (caches are the caller's job).
    One statement; the plain equivalent, an `aggregate()` and a `save()` per product, costs round
    trips per product on the sync's write path (bench/sync.py).
    """
    ids = sorted(set(product_ids))
    if not ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {_PRODUCT} AS p
               SET min_price = a.min_price, max_price = a.max_price, is_in_stock = a.is_in_stock,
                   updated_at = NOW()
              FROM (
                SELECT p2.id,
                       COALESCE(MIN(v.price), 0) AS min_price,
                       COALESCE(MAX(v.price), 0) AS max_price,
                       COALESCE(BOOL_OR(v.stock > 0), FALSE) AS is_in_stock
                  FROM {_PRODUCT} p2
                  LEFT JOIN {_VARIANT} v ON v.product_id = p2.id AND v.status = %(active)s
                 WHERE p2.id = ANY(%(ids)s)
                 GROUP BY p2.id
              ) AS a
             WHERE p.id = a.id
               AND (p.min_price, p.max_price, p.is_in_stock) IS DISTINCT FROM (a.min_price, a.max_price, a.is_in_stock)
         RETURNING p.id
            """,  # noqa: S608
            {"ids": ids, "active": Variant.Status.ACTIVE},
        )
        return {row[0] for row in cursor.fetchall()}


@transaction.atomic
def product_update_by_staff(*, product: Product, name: str, description: str, status: str) -> Product:
    """Save a staff edit; an edited name or description is never overwritten by a later sync.

    The description is sanitised as CJ's are (`catalog.content`). Invalidates the product's caches
    after commit.
    """
    description = description_clean(description)
    current = Product.objects.select_for_update().get(pk=product.pk)
    if name != current.name:
        product.has_staff_name = True
    if description != current.description:
        product.has_staff_description = True
    product.name, product.description, product.status = name, description, status
    product.save()
    _invalidate_on_commit(product_ids=[product.pk])
    business_logger.info("catalog.product.edited", extra={"product_id": product.pk, "cj_pid": product.cj_pid})
    return product


@transaction.atomic
def product_update_from_cj(
    *,
    cj_pid: str,
    name: str | None = None,
    description: str | None = None,
    images: list[str] | None = None,
    is_on_sale: bool | None = None,
) -> Product | None:
    """Apply a partial product change pushed by CJ (webhook PRODUCT); staff edits win.

    The description is sanitised (`catalog.content`). Returns None when we do not carry the product
    (the next sync will bring it).
    """
    product = Product.objects.select_for_update().filter(cj_pid=cj_pid).first()
    if product is None:
        return None
    if name and not product.has_staff_name:
        product.name = name[:500]
    if description is not None and not product.has_staff_description:
        product.description = description_clean(description)
    images = image_urls_clean(images or ())
    if images:
        product.images = images
    if is_on_sale is not None:
        product.status = Product.Status.ACTIVE if is_on_sale else Product.Status.INACTIVE
    product.last_synced_at = timezone.now()
    product.save()
    _invalidate_on_commit(product_ids=[product.pk])
    return product


def product_deactivate(*, cj_pid: str) -> Product | None:
    """Mark a product inactive (CJ took it off sale or deleted it); None when we do not carry it."""
    return product_update_from_cj(cj_pid=cj_pid, is_on_sale=False)


@transaction.atomic
def variant_update_from_cj(
    *,
    cj_vid: str,
    supplier_cost: Decimal | None = None,
    is_on_sale: bool | None = None,
    sku: str | None = None,
    weight_grams: Decimal | None = None,
) -> Variant | None:
    """Apply a variant change pushed by CJ (webhook VARIANT): a new cost is re-priced by the rule.

    A cost change beyond CATALOG_MAX_PRICE_CHANGE_PERCENT is held instead: the variant keeps its
    cost and price and the new cost waits in `pending_supplier_cost` for staff
    (`variant_pending_cost_accept` / `_reject`). Returns None when we do not carry the variant.
    """
    variant = Variant.objects.select_for_update().filter(cj_vid=cj_vid).first()
    if variant is None:
        return None
    if supplier_cost is not None:
        _variant_cost_apply(variant, supplier_cost.quantize(CENT))
    if is_on_sale is not None:
        variant.status = Variant.Status.ACTIVE if is_on_sale else Variant.Status.INACTIVE
    if sku:
        variant.sku = sku[:100]
    if weight_grams is not None:
        variant.weight_grams = weight_grams.quantize(CENT)
    variant.save()
    products_aggregates_refresh(product_ids=[variant.product_id])
    _invalidate_on_commit(product_ids=[variant.product_id], variant_ids=[variant.pk])
    return variant


def _variant_cost_apply(variant: Variant, cost: Decimal) -> None:
    if cost <= 0:  # the callers refuse it first (`integrations.cj.coercion.to_amount`)
        raise ValueError(f"supplier cost must be positive, not {cost}")
    if cost_change_is_held(current=variant.supplier_cost, proposed=cost):
        variant.pending_supplier_cost = cost
        variant.pending_since = variant.pending_since or timezone.now()
        logger.warning(
            "catalog.variant.cost_held",
            extra={"cj_vid": variant.cj_vid, "cost": str(variant.supplier_cost), "proposed": str(cost)},
        )
        return
    variant.supplier_cost = cost
    variant.price = current_rule().price_for(cost)
    variant.pending_supplier_cost = variant.pending_since = None


@transaction.atomic
def variant_pending_cost_accept(*, variant_id: int) -> Variant | None:
    """Staff accept CJ's held cost: the variant takes it and is re-priced by the rule.

    Refreshes the product's price range and invalidates its caches after commit. Returns None when
    the variant is gone or holds no cost (already decided).
    """
    variant = Variant.objects.select_for_update().filter(pk=variant_id).first()
    if variant is None or variant.pending_supplier_cost is None:
        return None
    previous = variant.supplier_cost
    variant.supplier_cost = variant.pending_supplier_cost
    variant.price = current_rule().price_for(variant.supplier_cost)
    variant.pending_supplier_cost = variant.pending_since = None
    variant.save()
    products_aggregates_refresh(product_ids=[variant.product_id])
    _invalidate_on_commit(product_ids=[variant.product_id], variant_ids=[variant.pk])
    business_logger.info(
        "catalog.variant.cost_accepted",
        extra={"cj_vid": variant.cj_vid, "cost": str(variant.supplier_cost), "previous": str(previous)},
    )
    return variant


@transaction.atomic
def variant_pending_cost_reject(*, variant_id: int) -> Variant | None:
    """Staff keep the current cost and price: the held cost is dropped (a later CJ change beyond
    the limit is held again). Returns None when the variant is gone or holds no cost."""
    variant = Variant.objects.select_for_update().filter(pk=variant_id).first()
    if variant is None or variant.pending_supplier_cost is None:
        return None
    rejected = variant.pending_supplier_cost
    variant.pending_supplier_cost = variant.pending_since = None
    variant.save(update_fields=["pending_supplier_cost", "pending_since", "updated_at"])
    business_logger.info(
        "catalog.variant.cost_kept",
        extra={"cj_vid": variant.cj_vid, "cost": str(variant.supplier_cost), "rejected": str(rejected)},
    )
    return variant


def variants_reprice(*, rule: PricingRule | None = None, batch_size: int = 2000) -> int:
    """Re-apply the pricing rule to every variant (after the rule changed); returns how many changed.

    Writes only variants whose price differs, in batches; invalidates their caches.
    """
    rule = rule or current_rule()
    changed = 0
    last_id = 0
    while True:
        rows = list(
            Variant.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "product_id", "supplier_cost", "price")[:batch_size]
        )
        if not rows:
            return changed
        last_id = rows[-1][0]
        updates = [
            Variant(pk=pk, price=rule.price_for(cost)) for pk, _, cost, price in rows if rule.price_for(cost) != price
        ]
        if updates:
            with transaction.atomic():
                Variant.objects.bulk_update(updates, ["price"])
                product_ids = {product_id for pk, product_id, _, _ in rows if pk in {v.pk for v in updates}}
                products_aggregates_refresh(product_ids=product_ids)
                _invalidate_on_commit(product_ids=product_ids, variant_ids=[v.pk for v in updates])
            changed += len(updates)
            logger.info("catalog.reprice.batch", extra={"changed": len(updates), "last_id": last_id})


@transaction.atomic
def products_record_misses(*, missing_pids: set[str]) -> int:
    """Count a miss for each of these active products CJ no longer has (a products sync asked), and
    deactivate those missed MISSES_BEFORE_INACTIVE times in a row. Returns how many were deactivated.
    """
    if not missing_pids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_PRODUCT} SET consecutive_misses = consecutive_misses + 1, updated_at = NOW()"  # noqa: S608
            " WHERE status = %(active)s AND cj_pid = ANY(%(missing)s)",
            {"missing": sorted(missing_pids), "active": Product.Status.ACTIVE},
        )
    to_deactivate = list(
        Product.objects.filter(
            cj_pid__in=missing_pids, status=Product.Status.ACTIVE, consecutive_misses__gte=MISSES_BEFORE_INACTIVE
        ).values_list("pk", flat=True)
    )
    if to_deactivate:
        Product.objects.filter(pk__in=to_deactivate).update(status=Product.Status.INACTIVE, updated_at=timezone.now())
        _invalidate_on_commit(product_ids=to_deactivate)
        logger.info("catalog.sync.products_deactivated", extra={"count": len(to_deactivate)})
    return len(to_deactivate)
