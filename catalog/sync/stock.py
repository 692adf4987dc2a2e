"""Stock refresh: CJ's live stock for a batch of variants, one `getInventoryByPid` call per product.

A variant CJ gives no answer for keeps its stock (a missing answer never zeroes stock); only
changed CJ figures are written, in bulk (`catalog.stock` derives what we sell from them); the
changed products' caches are invalidated. Products are
taken in id order and the run's checkpoint names the last one done, so a stopped run (Ctrl-C,
SIGTERM, CJ errors) is closed as failed and `sync_cj resume` continues it after that product.
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.models import Product, SyncRun, Variant
from catalog.stock import StockFigure, variants_cj_stock_apply
from catalog.stock_plan import stock_clock_mark
from catalog.sync.runs import Progress, cj_client, record_error, run_close_failed, runs_close_abandoned, sync_lock
from integrations.cj.coercion import MAX_COUNT
from integrations.cj.errors import CJNotFoundError, CJPermanentError, CJQuotaExceededError

logger = logging.getLogger(__name__)

BATCH_PRODUCTS = 50


def variants_stock_refresh(
    *,
    variant_ids: Sequence[int] | None = None,
    trigger: str = SyncRun.Trigger.COMMAND,
    run_id: int | None = None,
    job_id: str = "",
    client: Any = None,
    progress: Progress | None = None,
    batch_products: int | None = None,
    max_batches: int | None = None,
    chained: bool = False,
) -> SyncRun:
    """Refresh the stock of these variants (None: every active variant) from CJ; records a SyncRun.

    With `run_id`, resume that unfinished stock run instead: its variants, after its checkpoint.
    Products are taken `batch_products` at a time (a page of the run); with `max_batches`, at most
    that many are done and a run with products left is returned still running (its job enqueues
    the rest as the next job of the chain, `catalog.jobs`).
    Raises SyncAlreadyRunning when another stock refresh runs, ValueError when `run_id` is not an
    unfinished stock run; CJ errors other than a product unknown to CJ stop the run (closed as
    failed) and are re-raised, and so is an interrupt (Ctrl-C, SIGTERM), after closing the run.
    """
    client = client or cj_client()
    with sync_lock("stock"):
        run = _stock_run_open(run_id=run_id, variant_ids=variant_ids, trigger=trigger, job_id=job_id, chained=chained)
        # We hold the lock: another stock run still marked running is dead (its worker was killed).
        runs_close_abandoned(kinds=(SyncRun.Kind.STOCK,), keep=run)
        after = int(run.checkpoint.get("product_id", 0))
        wanted = run.checkpoint.get("variant_ids")
        variants = Variant.objects.filter(status=Variant.Status.ACTIVE, product__status=Product.Status.ACTIVE)
        if wanted is not None:
            variants = Variant.objects.filter(pk__in=wanted)
        by_product: dict[tuple[int, str], list[tuple[int, str, int]]] = defaultdict(list)
        for pk, cj_vid, stock, product_id, cj_pid in (
            variants.filter(product_id__gt=after)
            .order_by("product_id", "pk")
            .values_list("pk", "cj_vid", "cj_stock", "product_id", "product__cj_pid")
        ):
            by_product[(product_id, cj_pid)].append((pk, cj_vid, stock))
        products = list(by_product.items())
        batch_products = batch_products or BATCH_PRODUCTS
        run.total_pages = run.pages_done + (len(products) + batch_products - 1) // batch_products
        run.save()
        starts = list(range(0, len(products), batch_products))
        try:
            for done, start in enumerate(starts):
                if max_batches is not None and done >= max_batches:
                    return run  # still running: the rest is the next job's
                batch = products[start : start + batch_products]
                _refresh_batch(run, batch, client=client)
                run.pages_done += 1
                run.checkpoint = {**run.checkpoint, "product_id": batch[-1][0][0]}
                run.save()
                if progress:
                    progress(run)
        except (Exception, KeyboardInterrupt, SystemExit) as error:
            # A run stopped by Ctrl-C or SIGTERM (which the command raises as an interrupt) is
            # closed too, not left "running"; only a killed process leaves that to the next run.
            run_close_failed(run, error=error)
            if isinstance(error, Exception):
                logger.exception("catalog.stock.failed", extra={"run": run.pk})
            raise
        run.status, run.finished_at = SyncRun.Status.SUCCEEDED, timezone.now()
        run.save()
        logger.info(
            "catalog.stock.finished",
            extra={"run": run.pk, "variants_updated": run.updated_count, "variants_unchanged": run.unchanged_count},
        )
    return run


def _stock_run_open(
    *, run_id: int | None, variant_ids: Sequence[int] | None, trigger: str, job_id: str, chained: bool = False
) -> SyncRun:
    """A new stock run, or the unfinished run `run_id` reopened (call while holding the lock);
    `chained`: the run's next batch, not a resumption."""
    if run_id is None:
        checkpoint = {"variant_ids": None if variant_ids is None else list(variant_ids)}
        return SyncRun.objects.create(
            kind=SyncRun.Kind.STOCK, trigger=trigger, job_id=job_id, started_at=timezone.now(), checkpoint=checkpoint
        )
    run = SyncRun.objects.filter(pk=run_id, kind=SyncRun.Kind.STOCK).exclude(status=SyncRun.Status.SUCCEEDED).first()
    if run is None:
        raise ValueError(f"run {run_id} is not an unfinished stock run")
    if chained and run.status != SyncRun.Status.RUNNING:
        raise ValueError(f"stock run {run_id} was closed ({run.status})")
    run.status, run.finished_at = SyncRun.Status.RUNNING, None
    run.resumed_count += 0 if chained else 1
    run.job_id = job_id or run.job_id
    run.save()
    if chained:
        return run
    logger.info("catalog.stock.resumed", extra={"run": run.pk, "after_product": run.checkpoint.get("product_id")})
    return run


def _refresh_batch(run: SyncRun, products: list, *, client: Any) -> None:
    changed: list[StockFigure] = []
    read: list[int] = []
    now = timezone.now()
    for (product_id, cj_pid), variants in products:
        # Taken before the call: a figure dated earlier than CJ's moment counts our orders placed
        # meanwhile as still ours (under-sells a moment, never oversells).
        now = timezone.now()
        try:
            answer = client.get_stock_by_pid(pid=cj_pid)
        except (CJNotFoundError, CJPermanentError) as error:
            record_error(run, pid=cj_pid, error=error)
            continue
        except CJQuotaExceededError:
            stock_clock_mark(product_ids=read, at=now)  # what was read before the points ran out
            raise
        finally:
            run.cj_calls += 1
        read.append(product_id)
        for _pk, cj_vid, stock in variants:
            rows = answer.get(cj_vid)
            if not rows:  # no answer for this variant: keep what we hold
                run.unchanged_count += 1
                continue
            # Each warehouse's figure is bounded by the parser; their sum must still fit the column.
            total = min(max(sum(row.total for row in rows), 0), MAX_COUNT)
            if total == stock:
                run.unchanged_count += 1
                continue
            changed.append(StockFigure(cj_vid=cj_vid, stock=total, taken_at=now))
    run.updated_count += len(changed)
    stock_clock_mark(product_ids=read, at=now)
    if not changed:
        return
    # CJ's figures, with what we sell derived from them and our open orders; the lists are dropped
    # only when a product's in-stock flag changed (catalog.stock).
    with transaction.atomic():
        variants_cj_stock_apply(figures=changed)
