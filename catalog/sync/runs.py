"""Sync runs: full and incremental product sync, single-product refresh, one at a time, resumable.

A products run pages through CJ's `listV2`. A full run fetches every product's detail; an
incremental run fetches details only for products that are new or whose listing (name, price
range) differs from what we hold, so an unchanged catalog costs one call per 100 products and
writes nothing. After every page the run saves its checkpoint; a run that dies (killed worker,
exhausted CJ retries) is resumed from its next page by the next run of its kind. A full run that
saw the whole catalog counts a miss for every product CJ did not list (two misses → inactive).
Only one run of a kind (products / stock) runs at a time: a PostgreSQL advisory lock, released
by the database even when the process is killed.
"""

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import redis
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
MAX_PAGES = 1000  # listV2 refuses pages beyond 1000

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


def _seen_key(run: SyncRun) -> str:
    return f"catalog:sync:{run.pk}:seen"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5)


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


def _listing_changed(summary: cj.ProductSummary, current: Mapping[str, Any] | None) -> bool:
    if current is None:
        return True
    low = summary.sell_price.low.quantize(Decimal("0.01"))
    high = summary.sell_price.high.quantize(Decimal("0.01"))
    name_changed = not current["has_staff_name"] and summary.name[:500] != current["name"]
    return (
        low != current["cj_price_low"]
        or high != current["cj_price_high"]
        or name_changed
        or current["consecutive_misses"] > 0
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


def _products_run(run: SyncRun, *, client: Any, progress: Progress | None) -> None:
    started = time.monotonic()
    seen = _redis()
    page = int(run.checkpoint.get("page", 0)) + 1
    total_pages = run.total_pages or None
    size = settings.CATALOG_SYNC_PAGE_SIZE
    while total_pages is None or page <= min(total_pages, MAX_PAGES):
        listing = client.list_products(page=page, size=size)
        run.cj_calls += 1
        run.total_pages = total_pages = listing.total_pages
        summaries = listing.products
        details, skipped = _fetch_details(run, summaries, client=client)
        result = UpsertResult()
        if details:
            result = products_upsert(products=details)
        run.created_count += result.created
        run.updated_count += result.updated
        run.unchanged_count += result.unchanged + skipped
        run.variants_written += result.variants_written
        if summaries and run.kind == SyncRun.Kind.FULL:
            seen.sadd(_seen_key(run), *[summary.pid for summary in summaries])
            seen.expire(_seen_key(run), int(RESUME_WINDOW.total_seconds()) * 2)
        run.pages_done = page
        run.checkpoint = {"page": page, "seen": int(run.checkpoint.get("seen", 0)) + len(summaries)}
        run.save()
        if progress:
            progress(run)
        logger.info(
            "catalog.sync.page",
            extra={"run": run.pk, "page": page, "total_pages": total_pages, "products": len(summaries)},
        )
        if not summaries:
            break
        page += 1

    if run.kind == SyncRun.Kind.FULL:
        _record_misses(run, seen)
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


def _fetch_details(run: SyncRun, summaries: tuple, *, client: Any) -> tuple[list[cj.Product], int]:
    """Details of the page's products that need them; returns them and how many were skipped."""
    if run.kind == SyncRun.Kind.FULL:
        wanted = list(summaries)
    else:
        current = {
            row["cj_pid"]: row
            for row in Product.objects.filter(cj_pid__in=[s.pid for s in summaries]).values(
                "cj_pid", "name", "has_staff_name", "cj_price_low", "cj_price_high", "consecutive_misses"
            )
        }
        wanted = [summary for summary in summaries if _listing_changed(summary, current.get(summary.pid))]
    details = []
    for summary in wanted:
        try:
            details.append(client.get_product(pid=summary.pid, with_inventory=True))
        except CJPermanentError as error:
            record_error(run, pid=summary.pid, error=error)
        except (ValueError, TypeError) as error:  # a payload the client could not map
            record_error(run, pid=summary.pid, error=error)
        finally:
            run.cj_calls += 1
    return details, len(summaries) - len(wanted)


def _record_misses(run: SyncRun, seen: redis.Redis) -> None:
    seen_pids = {pid.decode() if isinstance(pid, bytes) else pid for pid in seen.smembers(_seen_key(run))}
    if len(seen_pids) < int(run.checkpoint.get("seen", 0)) * 0.99 or not seen_pids:
        # The seen-set was lost (Redis flushed mid-run): never deactivate on partial knowledge.
        logger.warning("catalog.sync.misses_skipped", extra={"run": run.pk, "seen": len(seen_pids)})
        return
    run.deactivated_count = products_record_misses(seen_pids=seen_pids)
    seen.delete(_seen_key(run))


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
