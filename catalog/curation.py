"""The curated catalog: staff choose what the shop sells. Import CJ products (by pid, CJ product URL
or SKU) as drafts or published, publish and unpublish, and keep CJ's "My Products" in step.

An import is a `SyncRun` of kind `import`: one `product/query` per product (10 points), written
with the sync's bulk upsert, then (best effort) `product/addToMyProduct`. New products are drafts
unless the import says publish; a product already in the shop keeps its publish state unless
publishing was asked for. Import rules and candidates are in `catalog.discovery`.
"""

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.cache import catalog_cache_invalidate
from catalog.models import ImportCandidate, Product, SyncRun
from catalog.sync.runs import cj_client, record_error, run_close_failed
from catalog.sync.upsert import products_upsert
from config.domain_errors import DomainError
from integrations.cj.errors import CJError, CJNotFoundError, CJPermanentError

logger = logging.getLogger(__name__)

Progress = Callable[[SyncRun], None]

# A CJ product page: https://cjdropshipping.com/product/<slug>-p-<pid>.html (pid: digits or a UUID),
# or a link carrying the pid as a query parameter (?pid=… / ?id=… / ?productId=…).
_URL_PID = re.compile(r"-p-([0-9A-Za-z-]{6,64})\.html", re.IGNORECASE)
_QUERY_PID = re.compile(r"[?&](?:pid|id|productId)=([0-9A-Za-z-]{6,64})(?:&|$)", re.IGNORECASE)
_PID = re.compile(r"^[0-9A-Za-z-]{6,64}$")


class ImportReferenceInvalid(DomainError):
    status = 400
    code = "import_reference_invalid"
    message = "Give a CJ pid, a CJ product URL or a SKU."


@dataclass(frozen=True)
class ImportRef:
    """One product to import: `kind` is "pid" or "sku" (a product SKU, else a variant SKU)."""

    kind: str
    value: str
    publish: bool = False

    def as_list(self) -> list[Any]:
        """Job arguments are primitives."""
        return [self.kind, self.value, self.publish]


def pid_from_url(url: str) -> str:
    """The CJ pid in a CJ product URL; raises ImportReferenceInvalid when the URL names none."""
    text = url.strip()
    if "cjdropshipping" not in text.lower():
        raise ImportReferenceInvalid(message="Not a CJ product URL (cjdropshipping.com).")
    match = _URL_PID.search(text) or _QUERY_PID.search(text)
    if match is None:
        raise ImportReferenceInvalid(message="This CJ URL names no product (expected …-p-<pid>.html).")
    return match.group(1)


def import_ref_parse(text: str, *, publish: bool = False) -> ImportRef:
    """What staff typed: a URL, a pid (digits or CJ's UUID form), or else a SKU."""
    value = text.strip()
    if not value or len(value) > 1000 or "\x00" in value:
        raise ImportReferenceInvalid()
    if value.lower().startswith(("http://", "https://", "cjdropshipping", "www.")):
        return ImportRef("pid", pid_from_url(value), publish)
    if value.isdigit() or (_PID.match(value) and value.count("-") == 4):
        return ImportRef("pid", value, publish)
    if len(value) > 100:
        raise ImportReferenceInvalid()
    return ImportRef("sku", value, publish)


def _fetch(client: Any, ref: ImportRef) -> Any:
    if ref.kind == "pid":
        return client.get_product(pid=ref.value, with_inventory=True)
    try:
        return client.get_product(product_sku=ref.value, with_inventory=True)
    except CJNotFoundError:
        return client.get_product(variant_sku=ref.value, with_inventory=True)


def products_import(
    *,
    refs: Sequence[ImportRef],
    trigger: str = SyncRun.Trigger.COMMAND,
    job_id: str = "",
    client: Any = None,
    add_to_my_products: bool = True,
    progress: Progress | None = None,
) -> SyncRun:
    """Import these CJ products (drafts unless their ref says publish); returns the import run.

    One unknown or unreadable product is an error on the run, not a failed run; other CJ errors
    (transient after retries, quota, credentials) close the run as failed and are re-raised.
    Candidates with these pids are marked imported.
    """
    client = client or cj_client()
    run = SyncRun.objects.create(
        kind=SyncRun.Kind.IMPORT, trigger=trigger, job_id=job_id, started_at=timezone.now(), total_pages=len(refs)
    )
    logger.info("catalog.import.started", extra={"run": run.pk, "products": len(refs), "trigger": trigger})
    try:
        for ref in refs:
            _import_one(run, ref, client=client, add_to_my_products=add_to_my_products)
            run.pages_done += 1
            run.save()
            if progress:
                progress(run)
    except (Exception, KeyboardInterrupt, SystemExit) as error:
        run_close_failed(run, error=error)
        raise
    run.status, run.finished_at = SyncRun.Status.SUCCEEDED, timezone.now()
    run.save()
    logger.info(
        "catalog.import.finished",
        extra={
            "run": run.pk,
            "products_created": run.created_count,
            "products_updated": run.updated_count,
            "products_failed": run.failed_count,
        },
    )
    return run


def _import_one(run: SyncRun, ref: ImportRef, *, client: Any, add_to_my_products: bool) -> None:
    try:
        detail = _fetch(client, ref)
    except CJPermanentError as error:
        record_error(run, pid=ref.value, error=error)
        ImportCandidate.objects.filter(cj_pid=ref.value, status=ImportCandidate.Status.NEW).update(
            status=ImportCandidate.Status.FAILED, error=str(error)[:500], decided_at=timezone.now()
        )
        return
    except (ValueError, TypeError) as error:  # a payload the client could not map
        record_error(run, pid=ref.value, error=error)
        return
    finally:
        run.cj_calls += 1
    result = products_upsert(products=[detail])
    product_id = result.product_ids[detail.pid]
    run.created_count += result.created
    run.updated_count += result.updated
    run.unchanged_count += result.unchanged
    run.variants_written += result.variants_written
    if ref.publish:
        products_publish(product_ids=[product_id], published=True)
    ImportCandidate.objects.filter(cj_pid=detail.pid).update(
        status=ImportCandidate.Status.IMPORTED, product_id=product_id, error="", decided_at=timezone.now()
    )
    if add_to_my_products:
        try:
            client.add_to_my_product(pid=detail.pid)
        except CJError as error:  # the shop has the product; CJ's list is kept best effort
            logger.warning("catalog.import.my_products_failed", extra={"pid": detail.pid, "error": str(error)[:300]})
        finally:
            run.cj_calls += 1


def products_publish(*, product_ids: Iterable[int], published: bool) -> int:
    """Publish (on sale in the storefront) or unpublish (back to draft) these products; returns how many changed."""
    ids = list(
        Product.objects.filter(pk__in=list(product_ids)).exclude(is_published=published).values_list("pk", flat=True)
    )
    if not ids:
        return 0
    with transaction.atomic():
        Product.objects.filter(pk__in=ids).update(is_published=published, updated_at=timezone.now())
        transaction.on_commit(lambda: catalog_cache_invalidate(product_ids=ids, lists=True))
    event = "catalog.products.published" if published else "catalog.products.unpublished"
    logger.info(event, extra={"count": len(ids)})
    return len(ids)


def my_products_refs(*, client: Any = None, publish: bool = False, max_pages: int = 1000) -> list[ImportRef]:
    """Every product on the CJ account's "My Products" that the shop does not carry yet (free calls)."""
    client = client or cj_client()
    pids: list[str] = []
    page = 1
    while page <= max_pages:
        listing = client.list_my_products(page=page, size=100)
        pids.extend(summary.pid for summary in listing.products)
        if not listing.products or page >= listing.total_pages:
            break
        page += 1
    carried = set(Product.objects.filter(cj_pid__in=pids).values_list("cj_pid", flat=True))
    return [ImportRef("pid", pid, publish) for pid in dict.fromkeys(pids) if pid not in carried]
