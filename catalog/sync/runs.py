"""Sync runs: full and incremental product sync, single-product refresh, one at a time, resumable.

A products run re-reads the shop's own products from CJ, one `product/query` (with inventory)
each, in id order; it never pages through CJ's catalogue (what the shop sells is what staff
imported, `catalog.curation`). A full run reads every product we carry; an incremental run the
next `CATALOG_INCREMENTAL_SYNC_BATCH` active products after where the last one stopped, so each
product is re-read in turn (webhooks carry CJ's changes in between). Only differing rows are
written, so a run with no change at CJ writes nothing. A product CJ no longer has (not found or
off sale) counts a miss; two misses in a row make it inactive. After every page the run saves its
checkpoint; a run that dies (killed worker, exhausted CJ retries) is resumed from its next page by
the next run of its kind. Only one run of a kind (products / stock) runs at a time: a PostgreSQL
advisory lock, released by the database even when the process is killed.
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from catalog.models import Product, SyncRun
from catalog.services import product_deactivate, products_record_misses, variants_reprice
from catalog.sync.upsert import UpsertResult, products_upsert
from integrations.cj import types as cj
from integrations.cj.errors import CJNotFoundError, CJPermanentError

logger = logging.getLogger(__name__)

# Advisory lock ids (any stable bigint): one per kind of work.
_LOCKS = {"products": 4_270_001, "stock": 4_270_002}
# A dead run younger than this is resumed rather than started over.
RESUME_WINDOW = timedelta(hours=24)
MAX_ERRORS_KEPT = 100

Progress = Callable[[SyncRun], None]


class SyncAlreadyRunning(Exception):
    """Another run of the same kind holds the lock."""


def cj_client() -> Any:
    from integrations.cj.client import get_client

    return get_client()


@contextmanager
def sync_lock(name: str) -> Iterator[None]:
    """Hold the advisory lock of one kind of sync; raises SyncAlreadyRunning when it is taken."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCKS[name]])
        if not cursor.fetchone()[0]:
            raise SyncAlreadyRunning(name)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCKS[name]])


def record_error(run: SyncRun, *, pid: str, error: Exception) -> None:
    run.failed_count += 1
    if len(run.errors) < MAX_ERRORS_KEPT:
        run.errors.append({"pid": pid, "error": type(error).__name__, "message": str(error)[:500]})
    logger.warning("catalog.sync.product_failed", extra={"run": run.pk, "pid": pid, "error": str(error)[:500]})


def run_close_failed(run: SyncRun, *, error: BaseException) -> None:
    """Close a run that stopped on `error`: failed, finished now, the error recorded.

    An interrupt (Ctrl-C, or SIGTERM as the command raises it) is recorded as "Interrupted". The
    caller re-raises `error`; a failure to save here is logged, never raised over it.
    """
    run.status, run.finished_at = SyncRun.Status.FAILED, timezone.now()
    if isinstance(error, KeyboardInterrupt | SystemExit):
        message = "Stopped before it finished; `sync_cj resume` continues it."
        entry = {"pid": None, "error": "Interrupted", "message": message}
        logger.warning("catalog.sync.interrupted", extra={"run": run.pk, "kind": run.kind, "page": run.pages_done})
    else:
        entry = {"pid": None, "error": type(error).__name__, "message": str(error)[:500]}
    if len(run.errors) < MAX_ERRORS_KEPT:
        run.errors.append(entry)
    try:
        run.save()
    except Exception:
        logger.exception("catalog.sync.close_failed", extra={"run": run.pk, "kind": run.kind})


def run_resumable_get(*, run_id: int | None = None) -> SyncRun | None:
    """The unfinished products or stock run to resume: this one, or the latest of the resume window."""
    runs = SyncRun.objects.filter(
        kind__in=[SyncRun.Kind.FULL, SyncRun.Kind.INCREMENTAL, SyncRun.Kind.STOCK],
        status__in=[SyncRun.Status.RUNNING, SyncRun.Status.FAILED],
    )
    if run_id is not None:
        return runs.filter(pk=run_id).first()
    return runs.filter(started_at__gte=timezone.now() - RESUME_WINDOW).order_by("-started_at", "-pk").first()


def runs_close_abandoned(*, kinds: tuple[str, ...], keep: SyncRun | None = None) -> int:
    """Mark runs of these kinds still `running` as failed: call while holding their lock, when any
    such run is dead (its worker was killed). A products run stays resumable from its checkpoint."""
    dead = SyncRun.objects.filter(kind__in=kinds, status=SyncRun.Status.RUNNING)
    if keep is not None:
        dead = dead.exclude(pk=keep.pk)
    closed = 0
    for run in dead:
        run.status, run.finished_at = SyncRun.Status.FAILED, timezone.now()
        if len(run.errors) < MAX_ERRORS_KEPT:
            run.errors.append({"pid": None, "error": "Abandoned", "message": "Its worker died before it finished."})
        run.save(update_fields=["status", "finished_at", "errors", "updated_at"])
        logger.warning("catalog.sync.abandoned", extra={"run": run.pk, "kind": run.kind})
        closed += 1
    return closed


def _run_to_resume(kind: str, run_id: int | None) -> SyncRun | None:
    if run_id is not None:
        return SyncRun.objects.filter(pk=run_id, kind=kind).exclude(status=SyncRun.Status.SUCCEEDED).first()
    # We hold the lock, so a run still marked running is dead.
    return (
        SyncRun.objects.filter(
            kind=kind,
            status__in=[SyncRun.Status.RUNNING, SyncRun.Status.FAILED],
            started_at__gte=timezone.now() - RESUME_WINDOW,
            checkpoint__has_key="page",
        )
        .order_by("-started_at")
        .first()
    )


def products_sync(
    *,
    kind: str = SyncRun.Kind.INCREMENTAL,
    trigger: str = SyncRun.Trigger.COMMAND,
    run_id: int | None = None,
    job_id: str = "",
    client: Any = None,
    progress: Progress | None = None,
) -> SyncRun:
    """Run a full or incremental product sync to the end (resuming a dead run of the same kind).

    Side effects: products and variants written in bulk, caches invalidated, a SyncRun recorded.
    One bad product is recorded on the run and skipped. Raises SyncAlreadyRunning when another
    products sync runs, and re-raises CJ errors that stop the run (transient ones, quota, auth)
    after marking the run failed with its checkpoint.
    """
    if kind not in (SyncRun.Kind.FULL, SyncRun.Kind.INCREMENTAL):
        raise ValueError(f"not a products sync kind: {kind}")
    client = client or cj_client()
    with sync_lock("products"):
        run = _run_to_resume(kind, run_id)
        if run is not None:
            run.status, run.resumed_count, run.finished_at = SyncRun.Status.RUNNING, run.resumed_count + 1, None
            run.job_id = job_id or run.job_id
            run.save()
            logger.info("catalog.sync.resumed", extra={"run": run.pk, "kind": kind, "page": run.checkpoint["page"]})
        else:
            run = SyncRun.objects.create(kind=kind, trigger=trigger, job_id=job_id, started_at=timezone.now())
            logger.info("catalog.sync.started", extra={"run": run.pk, "kind": kind, "trigger": trigger})
        # We hold the lock: any other products run still marked running is dead.
        runs_close_abandoned(kinds=(SyncRun.Kind.FULL, SyncRun.Kind.INCREMENTAL), keep=run)
        try:
            _products_run(run, client=client, progress=progress)
        except (Exception, KeyboardInterrupt, SystemExit) as error:
            # A run stopped by Ctrl-C or SIGTERM (which the command raises as an interrupt) is
            # closed too, not left "running"; only a killed process leaves that to the next run.
            run_close_failed(run, error=error)
            if isinstance(error, Exception):
                logger.exception("catalog.sync.failed", extra={"run": run.pk, "kind": kind})
            raise
    return run


def _incremental_ids(run: SyncRun) -> list[int]:
    """The next `CATALOG_INCREMENTAL_SYNC_BATCH` of our active products after where the last
    incremental run stopped (wrapping round), so every product is re-read in turn."""
    size = max(1, settings.CATALOG_INCREMENTAL_SYNC_BATCH)
    last = (
        SyncRun.objects.filter(kind=SyncRun.Kind.INCREMENTAL, status=SyncRun.Status.SUCCEEDED)
        .exclude(pk=run.pk)
        .order_by("-started_at", "-pk")
        .values_list("checkpoint", flat=True)
        .first()
    )
    cursor = int((last or {}).get("cursor", 0))
    active = Product.objects.filter(status=Product.Status.ACTIVE).order_by("pk")
    ids = list(active.filter(pk__gt=cursor).values_list("pk", flat=True)[:size])
    if len(ids) < size:
        ids += [pk for pk in active.values_list("pk", flat=True)[: size - len(ids)] if pk not in ids]
    return ids


def _page_products(run: SyncRun, page: int, size: int) -> list[tuple[int, str]]:
    """(id, pid) of our products on this page of the run: every product we carry (full), or the
    run's batch (incremental), in id order."""
    products = Product.objects.order_by("pk")
    if run.kind == SyncRun.Kind.INCREMENTAL:
        wanted = run.checkpoint["product_ids"]
        products = products.filter(pk__in=wanted[(page - 1) * size : page * size])
        return list(products.values_list("pk", "cj_pid"))
    after = int(run.checkpoint.get("after_id", 0))
    return list(products.filter(pk__gt=after).values_list("pk", "cj_pid")[:size])


def _products_run(run: SyncRun, *, client: Any, progress: Progress | None) -> None:
    """Re-read our own products from CJ (one `product/query` each), page by page with a checkpoint.

    Never a CJ listing: what the shop sells is what staff imported (`catalog.curation`).
    """
    started = time.monotonic()
    size = settings.CATALOG_SYNC_PAGE_SIZE
    if run.kind == SyncRun.Kind.INCREMENTAL and "product_ids" not in run.checkpoint:
        run.checkpoint = {**run.checkpoint, "product_ids": _incremental_ids(run)}
    if not run.total_pages:
        count = len(run.checkpoint["product_ids"]) if run.kind == SyncRun.Kind.INCREMENTAL else Product.objects.count()
        run.total_pages = (count + size - 1) // size
    page = int(run.checkpoint.get("page", 0)) + 1
    while True:
        products = _page_products(run, page, size)
        if not products:
            break
        details, missing = _fetch_details(run, products, client=client)
        result = UpsertResult()
        if details:
            result = products_upsert(products=details)
        run.created_count += result.created
        run.updated_count += result.updated
        run.unchanged_count += result.unchanged
        run.variants_written += result.variants_written
        run.deactivated_count += products_record_misses(missing_pids=missing)
        run.pages_done = page
        ids = [pk for pk, _pid in products]
        run.checkpoint = {
            **run.checkpoint,
            "page": page,
            "after_id": ids[-1],
            "cursor": ids[-1],
            "seen": int(run.checkpoint.get("seen", 0)) + len(products),
        }
        run.total_pages = max(run.total_pages, page)
        run.save()
        if progress:
            progress(run)
        logger.info(
            "catalog.sync.page",
            extra={"run": run.pk, "page": page, "total_pages": run.total_pages, "products": len(products)},
        )
        page += 1

    repriced = variants_reprice()
    run.status, run.finished_at = SyncRun.Status.SUCCEEDED, timezone.now()
    run.save()
    logger.info(
        "catalog.sync.finished",
        extra={
            "run": run.pk,
            "kind": run.kind,
            "products_created": run.created_count,
            "products_updated": run.updated_count,
            "products_unchanged": run.unchanged_count,
            "products_failed": run.failed_count,
            "products_deactivated": run.deactivated_count,
            "repriced": repriced,
            "cj_calls": run.cj_calls,
            "elapsed_s": round(time.monotonic() - started, 2),
        },
    )


def _fetch_details(run: SyncRun, products: list[tuple[int, str]], *, client: Any) -> tuple[list[cj.Product], set[str]]:
    """The CJ details of these products, and the pids CJ no longer has (a miss each)."""
    details, missing = [], set()
    for _pk, pid in products:
        try:
            details.append(client.get_product(pid=pid, with_inventory=True))
        except CJNotFoundError:
            missing.add(pid)
        except CJPermanentError as error:
            record_error(run, pid=pid, error=error)
        except (ValueError, TypeError) as error:  # a payload the client could not map
            record_error(run, pid=pid, error=error)
        finally:
            run.cj_calls += 1
    return details, missing


def product_refresh(*, cj_pid: str, client: Any = None) -> Product | None:
    """Fetch one product from CJ and upsert it; a product CJ no longer has becomes inactive.

    Returns the product, or None when CJ does not know it and we never carried it.
    """
    client = client or cj_client()
    try:
        product = client.get_product(pid=cj_pid, with_inventory=True)
    except CJNotFoundError:
        logger.info("catalog.product.not_found_at_cj", extra={"pid": cj_pid})
        return product_deactivate(cj_pid=cj_pid)
    result = products_upsert(products=[product])
    return Product.objects.get(pk=result.product_ids[cj_pid])
