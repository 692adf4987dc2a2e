"""Stock refresh: CJ's live stock for a batch of variants, one `getInventoryByPid` call per product.

A variant CJ gives no answer for keeps its stock (a missing answer never zeroes stock); only
changed figures are written, in bulk; the changed products' caches are invalidated.
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.cache import catalog_cache_invalidate
from catalog.models import Product, SyncRun, Variant
from catalog.services import products_aggregates_refresh
from catalog.sync.runs import Progress, cj_client, record_error, runs_close_abandoned, sync_lock
from integrations.cj.coercion import MAX_COUNT
from integrations.cj.errors import CJNotFoundError, CJPermanentError

logger = logging.getLogger(__name__)

BATCH_PRODUCTS = 50


def variants_stock_refresh(
    *,
    variant_ids: Sequence[int] | None = None,
    trigger: str = SyncRun.Trigger.COMMAND,
    job_id: str = "",
    client: Any = None,
    progress: Progress | None = None,
) -> SyncRun:
    """Refresh the stock of these variants (None: every active variant) from CJ; records a SyncRun.

    Raises SyncAlreadyRunning when another stock refresh runs; CJ errors other than a product
    unknown to CJ stop the run (marked failed) and are re-raised.
    """
    client = client or cj_client()
    with sync_lock("stock"):
        # We hold the lock: a stock run still marked running is dead (its worker was killed).
        runs_close_abandoned(kinds=(SyncRun.Kind.STOCK,))
        run = SyncRun.objects.create(kind=SyncRun.Kind.STOCK, trigger=trigger, job_id=job_id, started_at=timezone.now())
        variants = Variant.objects.filter(status=Variant.Status.ACTIVE, product__status=Product.Status.ACTIVE)
        if variant_ids is not None:
            variants = Variant.objects.filter(pk__in=variant_ids)
        by_product: dict[tuple[int, str], list[tuple[int, str, int]]] = defaultdict(list)
        for pk, cj_vid, stock, product_id, cj_pid in variants.order_by("product_id", "pk").values_list(
            "pk", "cj_vid", "stock", "product_id", "product__cj_pid"
        ):
            by_product[(product_id, cj_pid)].append((pk, cj_vid, stock))
        products = list(by_product.items())
        run.total_pages = (len(products) + BATCH_PRODUCTS - 1) // BATCH_PRODUCTS
        run.save()
        try:
            for start in range(0, len(products), BATCH_PRODUCTS):
                _refresh_batch(run, products[start : start + BATCH_PRODUCTS], client=client)
                run.pages_done += 1
                run.save()
                if progress:
                    progress(run)
        except Exception as error:
            run.status, run.finished_at = SyncRun.Status.FAILED, timezone.now()
            run.errors.append({"pid": None, "error": type(error).__name__, "message": str(error)[:500]})
            run.save()
            logger.exception("catalog.stock.failed", extra={"run": run.pk})
            raise
        run.status, run.finished_at = SyncRun.Status.SUCCEEDED, timezone.now()
        run.save()
        logger.info(
            "catalog.stock.finished",
            extra={"run": run.pk, "variants_updated": run.updated_count, "variants_unchanged": run.unchanged_count},
        )
    return run


def _refresh_batch(run: SyncRun, products: list, *, client: Any) -> None:
    now = timezone.now()
    changed: list[Variant] = []
    for (product_id, cj_pid), variants in products:
        try:
            answer = client.get_stock_by_pid(pid=cj_pid)
        except (CJNotFoundError, CJPermanentError) as error:
            record_error(run, pid=cj_pid, error=error)
            continue
        finally:
            run.cj_calls += 1
        for pk, cj_vid, stock in variants:
            rows = answer.get(cj_vid)
            if not rows:  # no answer for this variant: keep what we hold
                run.unchanged_count += 1
                continue
            # Each warehouse's figure is bounded by the parser; their sum must still fit the column.
            total = min(max(sum(row.total for row in rows), 0), MAX_COUNT)
            if total == stock:
                run.unchanged_count += 1
                continue
            changed.append(Variant(pk=pk, product_id=product_id, stock=total, stock_updated_at=now, updated_at=now))
    run.updated_count += len(changed)
    if not changed:
        return
    product_ids = {variant.product_id for variant in changed}
    with transaction.atomic():
        Variant.objects.bulk_update(changed, ["stock", "stock_updated_at", "updated_at"])
        # The lists show only the in-stock flag: they are dropped only when a product's flag changed.
        listed_changed = bool(products_aggregates_refresh(product_ids=product_ids))
        transaction.on_commit(lambda: catalog_cache_invalidate(product_ids=product_ids, lists=listed_changed))
