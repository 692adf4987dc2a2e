"""`python manage.py sync_cj products|stock|all|reprice|resume [--full] [--pid PID] [--run ID] [--enqueue]
[--if-empty]`; `sync_cj import --pid/--url/--sku/--keyword/--rule … [--publish] [--enqueue]`;
`sync_cj my-products [--publish]`; `sync_cj starter` (what `make run` imports on an empty catalog).

Ctrl-C or SIGTERM stops a run in the foreground closed as failed ("Interrupted"), with one line
on stderr and exit status 130 or 143; `resume` continues it (or another unfinished run).
"""

import signal
import threading
import time
from types import FrameType
from typing import Any

import redis
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.jobs import (
    product_refresh_enqueue,
    products_sync_enqueue,
    variants_stock_refresh_enqueue,
)
from catalog.management.commands._curation import curate
from catalog.models import Product, SyncRun, Variant
from catalog.selectors import catalog_is_empty
from catalog.services import variants_reprice
from catalog.sync.runs import SyncAlreadyRunning, product_refresh, products_sync, run_resumable_get
from catalog.sync.stock import variants_stock_refresh
from integrations.cj.errors import CJError


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command was, so that the run in progress is closed as on Ctrl-C."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


class Command(BaseCommand):
    help = (
        "Sync the catalog from CJ: products (incremental, or --full), stock, or all; --pid refreshes one "
        "product; --enqueue puts the work on its queue instead and prints the job id; reprice re-applies "
        "the pricing rule; resume continues the latest unfinished products or stock run (or --run ID)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "what", choices=["products", "stock", "all", "reprice", "resume", "import", "my-products", "starter"]
        )
        parser.add_argument("--full", action="store_true", help="fetch every product's detail (and count misses)")
        parser.add_argument("--pid", action="append", help="refresh this one CJ product (import: repeatable)")
        parser.add_argument("--url", action="append", default=[], help="import: a CJ product URL (repeatable)")
        parser.add_argument("--sku", action="append", default=[], help="import: a product or variant SKU (repeatable)")
        parser.add_argument("--keyword", help="import: the first page of CJ's search for these words")
        parser.add_argument("--limit", type=int, default=20, help="import --keyword: at most this many (1-100)")
        parser.add_argument("--rule", type=int, action="append", default=[], help="import: run this import rule")
        parser.add_argument("--approve", action="store_true", help="import --rule: import the candidates found")
        parser.add_argument("--publish", action="store_true", help="import: publish at once (default: drafts)")
        parser.add_argument("--enqueue", action="store_true", help="queue the work and print the job id")
        parser.add_argument("--run", type=int, help="with resume: the unfinished run to continue")
        parser.add_argument("--if-empty", action="store_true", help="do nothing unless the catalog is empty")

    def handle(self, *args: Any, **options: Any) -> None:
        # Signal handlers can only be set in the main thread (call_command may run elsewhere).
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
        try:
            self._handle(**options)
        except KeyboardInterrupt as interrupt:
            signum = signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT
            self.stderr.write(
                f"interrupted by {signum.name}: the sync run in progress is closed as failed (Interrupted); "
                "`manage.py sync_cj resume` continues it"
            )
            raise SystemExit(128 + signum) from None
        finally:
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous)

    def _handle(self, **options: Any) -> None:
        what = options["what"]
        if options["if_empty"] and not catalog_is_empty():
            self.stdout.write("catalog already holds products; nothing to do")
            return
        if what in ("import", "my-products", "starter"):
            curate(self, what, options)
            return
        if options["pid"] and len(options["pid"]) > 1:
            raise CommandError("--pid refreshes one product; give it once")
        options["pid"] = options["pid"][0] if options["pid"] else None
        if what == "reprice":
            self.stdout.write(f"repriced {variants_reprice()} variant(s)")
            return
        if what == "resume":
            if options["enqueue"] or options["pid"] or options["full"]:
                raise CommandError("resume runs in the foreground and takes only --run")
            self._resume(options["run"])
            return
        if options["run"] is not None:
            raise CommandError("--run goes with resume only")
        kind = SyncRun.Kind.FULL if options["full"] or options["if_empty"] else SyncRun.Kind.INCREMENTAL
        trigger = SyncRun.Trigger.BOOTSTRAP if options["if_empty"] else SyncRun.Trigger.COMMAND
        if options["enqueue"]:
            self._enqueue(what, kind=kind, trigger=trigger, pid=options["pid"])
            return
        started = time.monotonic()
        try:
            if options["pid"]:
                product = product_refresh(cj_pid=options["pid"])
                self.stdout.write(f"product {options['pid']}: {'refreshed' if product else 'unknown at CJ'}")
                return
            if what in ("products", "all"):
                run = products_sync(kind=kind, trigger=trigger, progress=self._progress(started))
                self._summary(run, started)
            if what in ("stock", "all"):
                run = variants_stock_refresh(trigger=trigger, progress=self._progress(started))
                self._summary(run, started)
        except SyncAlreadyRunning as error:
            raise CommandError(f"another {error} sync is running") from error
        except CJError as error:
            raise CommandError(f"sync failed: {error}") from error

    def _resume(self, run_id: int | None) -> None:
        run = run_resumable_get(run_id=run_id)
        if run is None:
            raise CommandError(
                f"run {run_id} is not an unfinished products or stock run"
                if run_id is not None
                else "no unfinished products or stock run of the last 24 hours to resume"
            )
        started = time.monotonic()
        self.stdout.write(f"resuming {run.get_kind_display()} #{run.pk} after page {run.pages_done}")
        try:
            if run.kind == SyncRun.Kind.STOCK:
                run = variants_stock_refresh(run_id=run.pk, progress=self._progress(started))
            else:
                run = products_sync(kind=run.kind, run_id=run.pk, progress=self._progress(started))
        except ValueError as error:  # the run finished meanwhile
            raise CommandError(str(error)) from error
        except SyncAlreadyRunning as error:
            raise CommandError(f"another {error} sync is running") from error
        except CJError as error:
            raise CommandError(f"sync failed: {error}") from error
        self._summary(run, started)

    def _enqueue(self, what: str, *, kind: str, trigger: str, pid: str | None) -> None:
        try:
            jobs = []
            if pid:
                jobs.append(product_refresh_enqueue(cj_pid=pid))
            else:
                if what in ("products", "all"):
                    jobs.append(products_sync_enqueue(kind=kind, trigger=trigger))
                if what in ("stock", "all"):
                    jobs.append(variants_stock_refresh_enqueue(variant_ids=None, trigger=trigger))
        except redis.RedisError as error:
            raise CommandError(f"could not enqueue: {error}") from error
        for job in jobs:
            self.stdout.write(f"queued {job.func_name} on {job.origin}: job {job.id}")

    def _progress(self, started: float) -> Any:
        def report(run: SyncRun) -> None:
            self.stdout.write(
                f"[{time.monotonic() - started:7.1f}s] {run.kind} page {run.pages_done}/{run.total_pages or '?'}: "
                f"created {run.created_count}, updated {run.updated_count}, unchanged {run.unchanged_count}, "
                f"variants written {run.variants_written}, errors {run.failed_count}"
            )

        return report

    def _summary(self, run: SyncRun, started: float) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"{run.get_kind_display()} #{run.pk} {run.status} in {time.monotonic() - started:.1f}s: "
                f"{run.pages_done} page(s), created {run.created_count}, updated {run.updated_count}, "
                f"unchanged {run.unchanged_count}, failed {run.failed_count}, deactivated {run.deactivated_count}, "
                f"CJ calls {run.cj_calls}; catalog: {Product.objects.count()} products, "
                f"{Variant.objects.count()} variants"
            )
        )
        if run.failed_count:
            for error in run.errors[:10]:
                self.stderr.write(f"  {error['pid']}: {error['error']}: {error['message']}")
