"""Stock that tells the truth: CJ's figure and our orders' units, kept apart.

`Variant.cj_stock` is CJ's latest figure (all warehouses) and `stock_updated_at` when it was
taken; neither is touched by our orders. `Variant.stock`, what the storefront sells, is derived:

    stock = max(cj_stock - units of our orders CJ has not counted yet, 0)

where CJ has not counted an order's units while the order is in `Order.RESERVING_STATUSES`
(accepted, not at CJ yet) or when CJ took it (`Order.PLACED_STATUSES`) after the figure was taken
(`placed_at` later than `stock_updated_at`). So a CJ figure never resurrects units our open orders
hold, and a failed order gives its units back only as far as CJ's figure still counts them.

Every writer keeps that equation under the variant's row lock: intake takes units with one
conditional UPDATE (`stock >= quantity`); everything else (a CJ figure from a STOCK push, the stock
refresh or the product sync; an order placed, failed or cancelled) locks the rows first, then
recomputes in a second statement, whose snapshot sees every order committed before the lock was
granted (one statement would read the orders as of its start and could undo a concurrent
intake's units). Rows are locked in id order, as intake locks them, so writers never deadlock.

Per warehouse later (#20): the same equation per (variant, warehouse) row.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from catalog.cache import catalog_cache_invalidate
from catalog.models import Variant
from catalog.services import products_aggregates_refresh
from orders.models import Order, OrderItem

logger = logging.getLogger(__name__)

# Table names come from the models (never from input, hence the S608 exemptions); statuses are
# parameters.
_VARIANT = Variant._meta.db_table
_ORDER = Order._meta.db_table
_ITEM = OrderItem._meta.db_table


def _held_units(figure_time: str) -> str:
    """SQL: the units of variant `v` that our orders hold and CJ's figure taken at `figure_time`
    (an SQL expression) does not count."""
    return f"""COALESCE((
        SELECT SUM(oi.quantity) FROM {_ITEM} oi JOIN {_ORDER} o ON o.id = oi.order_id
         WHERE oi.variant_id = v.id
           AND (o.status = ANY(%(reserving)s)
                OR (o.status = ANY(%(placed)s) AND ({figure_time} IS NULL OR o.placed_at > {figure_time})))
    ), 0)"""  # noqa: S608


def _statuses() -> dict[str, list[str]]:
    return {"reserving": list(Order.RESERVING_STATUSES), "placed": list(Order.PLACED_STATUSES)}


_LOCK_BY_ID_SQL = f"SELECT id, stock FROM {_VARIANT} WHERE id = ANY(%(ids)s) ORDER BY id FOR UPDATE"  # noqa: S608
_LOCK_BY_VID_SQL = f"""
SELECT id, cj_vid, stock, cj_stock, stock_updated_at FROM {_VARIANT} WHERE cj_vid = ANY(%(vids)s)
 ORDER BY id FOR UPDATE
"""  # noqa: S608
_RECOMPUTE_SQL = f"""
UPDATE {_VARIANT} v SET stock = GREATEST(v.cj_stock - {_held_units("v.stock_updated_at")}, 0), updated_at = NOW()
 WHERE v.id = ANY(%(ids)s) AND v.stock != GREATEST(v.cj_stock - {_held_units("v.stock_updated_at")}, 0)
RETURNING v.id, v.product_id, v.status, v.stock
"""  # noqa: S608
_FIGURES_SQL = f"""
UPDATE {_VARIANT} v
   SET cj_stock = i.cj_stock, stock_updated_at = i.taken_at,
       stock = GREATEST(i.cj_stock - {_held_units("i.taken_at")}, 0), updated_at = NOW()
  FROM unnest(%(ids)s::bigint[], %(stocks)s::integer[], %(taken)s::timestamptz[]) AS i(id, cj_stock, taken_at)
 WHERE v.id = i.id
RETURNING v.id, v.product_id, v.status, v.stock
"""  # noqa: S608


def _invalidate_on_commit(*, product_ids: Iterable[int], lists: bool = True) -> None:
    ids = set(product_ids)
    if ids:
        transaction.on_commit(lambda: catalog_cache_invalidate(product_ids=ids, lists=lists))


@dataclass(frozen=True)
class StockFigure:
    """CJ's stock of one variant (all warehouses), taken at `taken_at`."""

    cj_vid: str
    stock: int
    taken_at: datetime


def _after_write(prior: dict[int, int], written: list[tuple[int, int, str, int]]) -> None:
    """Refresh the in-stock flag of products whose active variant crossed zero; forget caches."""
    crossed = {
        product_id
        for variant_id, product_id, status, stock in written
        if status == Variant.Status.ACTIVE and (prior.get(variant_id, 0) > 0) != (stock > 0)
    }
    listed_changed = bool(crossed and products_aggregates_refresh(product_ids=crossed))
    _invalidate_on_commit(product_ids={row[1] for row in written}, lists=listed_changed)


@transaction.atomic(savepoint=False)
def variants_stock_recompute(*, variant_ids: Iterable[int]) -> set[int]:
    """Derive the sellable stock of these variants again from CJ's figure and our orders (after an
    order was placed, failed, cancelled or retried). Locks the rows; refreshes the products'
    in-stock flag and caches when it changed. Returns the ids whose stock changed."""
    ids = sorted(set(variant_ids))
    if not ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_BY_ID_SQL, {"ids": ids})
        prior = dict(cursor.fetchall())
        cursor.execute(_RECOMPUTE_SQL, {"ids": ids, **_statuses()})
        written = cursor.fetchall()
    _after_write(prior, written)
    return {row[0] for row in written}


@transaction.atomic(savepoint=False)
def variants_cj_stock_apply(*, figures: Sequence[StockFigure]) -> set[str]:
    """Record CJ's figures (STOCK pushes, stock refresh, product sync) and derive what we sell.

    Set-based: one locking SELECT and one UPDATE for all of them. Per variant the latest figure
    wins; a figure older than the one we hold, or equal to it, is skipped. Returns the CJ vids
    whose figure was written (unknown vids are skipped)."""
    latest: dict[str, StockFigure] = {}
    for figure in figures:  # later in the sequence wins a tie (the later message)
        held = latest.get(figure.cj_vid)
        if held is None or figure.taken_at >= held.taken_at:
            latest[figure.cj_vid] = figure
    if not latest:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_BY_VID_SQL, {"vids": sorted(latest)})
        stored = cursor.fetchall()
        prior, ids, stocks, taken, applied = {}, [], [], [], set()
        for variant_id, cj_vid, stock, cj_stock, stock_updated_at in stored:
            figure = latest[cj_vid]
            if stock_updated_at is not None and (
                figure.taken_at < stock_updated_at or (figure.taken_at, figure.stock) == (stock_updated_at, cj_stock)
            ):
                continue
            prior[variant_id] = stock
            ids.append(variant_id)
            stocks.append(figure.stock)
            taken.append(figure.taken_at)
            applied.add(cj_vid)
        if not ids:
            return set()
        cursor.execute(_FIGURES_SQL, {"ids": ids, "stocks": stocks, "taken": taken, **_statuses()})
        written = cursor.fetchall()
    _after_write(prior, written)
    return applied


def variant_stock_set(*, cj_vid: str, stock: int, as_of: datetime | None = None) -> int | None:
    """Record one CJ figure of a variant, taken at `as_of` (default now); see variants_cj_stock_apply.

    Returns the variant's id when written; None when we do not carry it or hold a newer figure."""
    figure = StockFigure(cj_vid=cj_vid, stock=max(int(stock), 0), taken_at=as_of or timezone.now())
    if not variants_cj_stock_apply(figures=[figure]):
        return None
    return Variant.objects.filter(cj_vid=cj_vid).values_list("pk", flat=True).first()


def variant_stock_reserve(*, variant_id: int, quantity: int) -> bool:
    """Take `quantity` sellable units for an order being placed; False (nothing taken) when short.

    One conditional UPDATE (`stock >= quantity`), which waits for the row lock and re-reads the
    row, so concurrent orders never oversell. The caller's transaction must then write the order
    in a reserving status (its items are what keep the units taken when stock is derived again).
    Call in variant-id order; caches are invalidated after commit.
    """
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    taken = Variant.objects.filter(pk=variant_id, status=Variant.Status.ACTIVE, stock__gte=quantity).update(
        stock=F("stock") - quantity, updated_at=timezone.now()
    )
    if taken:
        product_id = Variant.objects.filter(pk=variant_id).values_list("product_id", flat=True).get()
        products_aggregates_refresh(product_ids=[product_id])
        _invalidate_on_commit(product_ids=[product_id])
    return bool(taken)
