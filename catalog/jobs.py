"""Queue entry points of the catalog: product sync, refresh, imports and import rules on
`sync-products`, stock on `update-stock`.

Jobs take primitive arguments, re-read their rows and are idempotent: a retried products sync
resumes its run from the checkpoint. Transient CJ errors raise (RQ retries them with backoff);
quota and credential errors are recorded on the run and end the job without a retry.
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from rq import get_current_job
from rq.job import Job

from catalog.curation import ImportRef, products_import
from catalog.discovery import candidates_approve, import_rules_run, starter_selection_import
from catalog.models import SyncRun, Variant
from catalog.stock_plan import stock_refresh_due
from catalog.sync.runs import SyncAlreadyRunning, product_refresh, products_sync, run_resumable_get
from catalog.sync.stock import variants_stock_refresh
from config.queues import SYNC_PRODUCTS, UPDATE_STOCK, enqueue, job_id
from integrations.cj.errors import CJAuthError, CJQuotaExceededError
from integrations.cj.points import CJPurpose, cj_purpose

logger = logging.getLogger(__name__)


def _job_id() -> str:
    job = get_current_job()
    return job.id if job else ""


def run_summary(run: SyncRun) -> dict[str, Any]:
    return {
        "run_id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "pages_done": run.pages_done,
        "total_pages": run.total_pages,
        "created": run.created_count,
        "updated": run.updated_count,
        "unchanged": run.unchanged_count,
        "failed": run.failed_count,
        "deactivated": run.deactivated_count,
        "cj_calls": run.cj_calls,
    }


def products_sync_job(kind: str, trigger: str = SyncRun.Trigger.SCHEDULER, run_id: int | None = None) -> dict[str, Any]:
    """Run a full or incremental products sync (resuming a dead run); returns the run's summary."""
    try:
        run = products_sync(kind=kind, trigger=trigger, run_id=run_id, job_id=_job_id())
    except SyncAlreadyRunning:
        logger.info("catalog.sync.skipped_already_running", extra={"kind": kind})
        return {"status": "skipped", "reason": "another products sync is running"}
    except (CJQuotaExceededError, CJAuthError) as error:
        # Recorded on the run by products_sync; retrying today would fail the same way.
        return {"status": SyncRun.Status.FAILED, "error": str(error)}
    return run_summary(run)


def product_refresh_job(cj_pid: str) -> dict[str, Any]:
    """Refresh one product from CJ (deactivated when CJ no longer has it)."""
    product = product_refresh(cj_pid=cj_pid)
    return {"cj_pid": cj_pid, "product_id": product.pk if product else None}


STOCK_CHAIN_ALIVE = timedelta(minutes=10)


def variants_stock_refresh_job(
    variant_ids: list[int] | None = None, trigger: str = SyncRun.Trigger.SCHEDULER, run_id: int | None = None
) -> dict[str, Any]:
    """Refresh CJ stock of these variants (None: all active variants) one batch of
    CATALOG_STOCK_REFRESH_BATCH products per job: a run with products left enqueues its next job
    (`run_id`) and ends, so the worker never holds a long job and a run is a chain of small
    ones. Returns the run's summary."""
    try:
        run = variants_stock_refresh(
            variant_ids=variant_ids,
            trigger=trigger,
            run_id=run_id,
            job_id=_job_id(),
            batch_products=settings.CATALOG_STOCK_REFRESH_BATCH,
            max_batches=1,
            chained=run_id is not None,
        )
    except SyncAlreadyRunning:
        logger.info("catalog.stock.skipped_already_running")
        return {"status": "skipped", "reason": "another stock refresh is running"}
    except (CJQuotaExceededError, CJAuthError) as error:
        return {"status": SyncRun.Status.FAILED, "error": str(error)}
    except ValueError as error:  # the run was closed meanwhile (a newer run found it abandoned)
        return {"status": "skipped", "reason": str(error)}
    if run.status == SyncRun.Status.RUNNING:
        enqueue(
            UPDATE_STOCK,
            "catalog.jobs.variants_stock_refresh_job",
            None,
            trigger,
            run.pk,
            job_id=job_id("stock-batch", f"{run.pk}-{run.pages_done}"),
        )
    return run_summary(run)


def products_sync_enqueue(*, kind: str, trigger: str, run_id: int | None = None) -> Job:
    """Put a products sync on `sync-products` now; raises redis.RedisError when Redis is down."""
    return enqueue(SYNC_PRODUCTS, "catalog.jobs.products_sync_job", kind, trigger, run_id)


def product_refresh_enqueue(*, cj_pid: str) -> Job:
    """Put a single-product refresh on `sync-products` now."""
    return enqueue(SYNC_PRODUCTS, "catalog.jobs.product_refresh_job", cj_pid)


def variants_stock_refresh_enqueue(*, variant_ids: list[int] | None, trigger: str) -> Job:
    """Put a stock refresh on `update-stock` now."""
    return enqueue(UPDATE_STOCK, "catalog.jobs.variants_stock_refresh_job", variant_ids, trigger)


def incremental_sync_scheduled_job() -> dict[str, Any]:
    """Periodic entry point (config/cron.py): an incremental products sync."""
    return products_sync_job(SyncRun.Kind.INCREMENTAL, SyncRun.Trigger.SCHEDULER)


def stock_refresh_scheduled_job() -> dict[str, Any]:
    """Periodic entry point (config/cron.py): read the stock of the products the points plan says
    are due now (catalog.stock_plan.stock_refresh_due), most urgent first, as a chain of small jobs;
    skipped while a run's chain is still under way (it moved in the last 10 minutes)."""
    alive = SyncRun.objects.filter(
        kind=SyncRun.Kind.STOCK, status=SyncRun.Status.RUNNING, updated_at__gte=timezone.now() - STOCK_CHAIN_ALIVE
    ).first()
    if alive is not None:
        logger.info("catalog.stock.skipped_chain_running", extra={"run": alive.pk})
        return {"status": "skipped", "reason": f"stock run {alive.pk} is still running"}
    pids = stock_refresh_due()
    if not pids:
        return {"status": "skipped", "reason": "no product due within the stock refresh's points"}
    variant_ids = list(
        Variant.objects.filter(product__cj_pid__in=pids, status=Variant.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    with cj_purpose(CJPurpose.STOCK):
        return variants_stock_refresh_job(variant_ids, SyncRun.Trigger.SCHEDULER)


def stock_run_resume_job(run_id: int) -> dict[str, Any]:
    """Resume an unfinished (stopped, interrupted or abandoned) stock run after its checkpoint:
    what `manage.py sync_cj resume --run ID` does, on `update-stock`. Returns the run's summary."""
    run = run_resumable_get(run_id=run_id)
    if run is None or run.kind != SyncRun.Kind.STOCK:
        return {"status": "skipped", "reason": f"run {run_id} is not an unfinished stock run"}
    try:
        with cj_purpose(CJPurpose.STOCK):
            run = variants_stock_refresh(run_id=run.pk, job_id=_job_id())
    except SyncAlreadyRunning:
        logger.info("catalog.stock.skipped_already_running")
        return {"status": "skipped", "reason": "another stock refresh is running"}
    except ValueError as error:  # finished meanwhile
        return {"status": "skipped", "reason": str(error)}
    except (CJQuotaExceededError, CJAuthError) as error:
        return {"status": SyncRun.Status.FAILED, "error": str(error)}
    return run_summary(run)


def products_import_job(refs: list[list[Any]], trigger: str = SyncRun.Trigger.ADMIN) -> dict[str, Any]:
    """Import CJ products (`[kind, value, publish]` each, see `catalog.curation.ImportRef`)."""
    try:
        run = products_import(
            refs=[ImportRef(str(kind), str(value), bool(publish)) for kind, value, publish in refs],
            trigger=trigger,
            job_id=_job_id(),
        )
    except (CJQuotaExceededError, CJAuthError) as error:
        # Recorded on the run by products_import; retrying today would fail the same way.
        return {"status": SyncRun.Status.FAILED, "error": str(error)}
    return run_summary(run)


def candidates_approve_job(candidate_ids: list[int]) -> dict[str, Any]:
    """Import the approved candidates."""
    try:
        run = candidates_approve(candidate_ids=candidate_ids, job_id=_job_id())
    except (CJQuotaExceededError, CJAuthError) as error:
        return {"status": SyncRun.Status.FAILED, "error": str(error)}
    return run_summary(run) if run else {"status": "skipped", "reason": "no candidate waiting"}


def import_rules_run_job(rule_ids: list[int] | None = None, trigger: str = SyncRun.Trigger.SCHEDULER) -> dict[str, Any]:
    """Run the import rules (None: every active one) within the day's discovery allowance."""
    try:
        run = import_rules_run(rule_ids=rule_ids, trigger=trigger, job_id=_job_id())
    except (CJQuotaExceededError, CJAuthError) as error:
        return {"status": SyncRun.Status.FAILED, "error": str(error)}
    return run_summary(run)


def import_rules_scheduled_job() -> dict[str, Any]:
    """Periodic entry point (config/cron.py): every active import rule."""
    return import_rules_run_job(None, SyncRun.Trigger.SCHEDULER)


def products_import_enqueue(*, refs: list[ImportRef], trigger: str) -> Job:
    """Put an import on `sync-products` now; raises redis.RedisError when Redis is down."""
    return enqueue(SYNC_PRODUCTS, "catalog.jobs.products_import_job", [ref.as_list() for ref in refs], trigger)


def candidates_approve_enqueue(*, candidate_ids: list[int]) -> Job:
    return enqueue(SYNC_PRODUCTS, "catalog.jobs.candidates_approve_job", candidate_ids)


def import_rules_run_enqueue(*, rule_ids: list[int] | None, trigger: str) -> Job:
    return enqueue(SYNC_PRODUCTS, "catalog.jobs.import_rules_run_job", rule_ids, trigger)


def starter_selection_import_job() -> dict[str, Any]:
    """`make run` on an empty catalog: the starter pids and the starter keyword rule."""
    return run_summary(starter_selection_import(job_id=_job_id()))


def starter_selection_import_enqueue() -> Job:
    return enqueue(SYNC_PRODUCTS, "catalog.jobs.starter_selection_import_job")


def stock_run_resume_enqueue(*, run_id: int) -> Job:
    """Put the resumption of an unfinished stock run on `update-stock` now."""
    return enqueue(UPDATE_STOCK, "catalog.jobs.stock_run_resume_job", run_id)
