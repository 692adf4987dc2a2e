"""`sync_cj import|my-products|starter`: the curated catalog's commands (see `sync_cj`)."""

import time
from typing import Any

import redis
from django.core.management.base import BaseCommand, CommandError

from catalog.curation import ImportRef, import_ref_parse, my_products_refs, products_import
from catalog.discovery import candidates_approve, import_rules_run, starter_selection_import
from catalog.jobs import (
    import_rules_run_enqueue,
    products_import_enqueue,
    starter_selection_import_enqueue,
)
from catalog.models import ImportCandidate, ImportRule, SyncRun
from catalog.sync.runs import cj_client
from config.domain_errors import DomainError
from integrations.cj.errors import CJError


def curate(command: BaseCommand, what: str, options: dict[str, Any]) -> None:
    """Run (or with --enqueue, queue) an import, the My Products import or the starter selection."""
    started = time.monotonic()
    try:
        if what == "starter":
            _starter(command, options, started)
        elif what == "my-products":
            refs = my_products_refs(publish=options["publish"])
            command.stdout.write(f"CJ My Products: {len(refs)} product(s) not in the shop yet")
            _import(command, refs, options, started, add_to_my_products=False)
        else:
            _import_command(command, options, started)
    except DomainError as error:
        raise CommandError(error.message) from error
    except CJError as error:
        raise CommandError(f"import failed: {error}") from error
    except redis.RedisError as error:
        raise CommandError(f"could not enqueue: {error}") from error


def _import_command(command: BaseCommand, options: dict[str, Any], started: float) -> None:
    publish = options["publish"]
    refs = [ImportRef("pid", pid.strip(), publish) for pid in options["pid"] or [] if pid.strip()]
    refs += [import_ref_parse(url, publish=publish) for url in options["url"]]
    refs += [ImportRef("sku", sku.strip(), publish) for sku in options["sku"] if sku.strip()]
    if options["keyword"]:
        if not 1 <= options["limit"] <= 100:
            raise CommandError("--limit takes 1-100")
        listing = cj_client().list_products(page=1, size=options["limit"], keyword=options["keyword"])
        command.stdout.write(
            f"CJ search {options['keyword']!r}: {listing.total_records} match(es), importing {len(listing.products)}"
        )
        refs += [ImportRef("pid", summary.pid, publish) for summary in listing.products]
    rules = options["rule"]
    if not refs and not rules:
        raise CommandError("import needs --pid, --url, --sku, --keyword or --rule")
    if refs:
        _import(command, refs, options, started)
    if rules:
        _rules(command, rules, options, started)


def _import(
    command: BaseCommand,
    refs: list[ImportRef],
    options: dict[str, Any],
    started: float,
    *,
    add_to_my_products: bool = True,
) -> None:
    if options["enqueue"]:
        job = products_import_enqueue(refs=refs, trigger=SyncRun.Trigger.COMMAND)
        command.stdout.write(f"queued {job.func_name} on {job.origin}: job {job.id}")
        return
    if not refs:
        return
    run = products_import(refs=refs, add_to_my_products=add_to_my_products, progress=_progress(command, started))
    _summary(command, run, started)


def _rules(command: BaseCommand, rule_ids: list[int], options: dict[str, Any], started: float) -> None:
    unknown = set(rule_ids) - set(ImportRule.objects.filter(pk__in=rule_ids).values_list("pk", flat=True))
    if unknown:
        raise CommandError(f"no import rule {', '.join(map(str, sorted(unknown)))}")
    if options["enqueue"]:
        job = import_rules_run_enqueue(rule_ids=rule_ids, trigger=SyncRun.Trigger.COMMAND)
        command.stdout.write(f"queued {job.func_name} on {job.origin}: job {job.id}")
        return
    run = import_rules_run(rule_ids=rule_ids, trigger=SyncRun.Trigger.COMMAND)
    points = run.checkpoint.get("points_spent", 0)
    command.stdout.write(
        f"[{time.monotonic() - started:7.1f}s] rules {', '.join(map(str, rule_ids))}: {run.pages_done} page(s), "
        f"{run.created_count} new candidate(s), {run.unchanged_count} skipped, {points} points"
    )
    if options["approve"]:
        waiting = ImportCandidate.objects.filter(rule_id__in=rule_ids, status=ImportCandidate.Status.NEW)
        approved = candidates_approve(
            candidate_ids=list(waiting.values_list("pk", flat=True)), trigger=SyncRun.Trigger.COMMAND
        )
        if approved is not None:
            _summary(command, approved, started)


def _starter(command: BaseCommand, options: dict[str, Any], started: float) -> None:
    if options["enqueue"]:
        job = starter_selection_import_enqueue()
        command.stdout.write(f"queued {job.func_name} on {job.origin}: job {job.id}")
        return
    run = starter_selection_import(trigger=SyncRun.Trigger.BOOTSTRAP)
    command.stdout.write(f"starter rule: {run.created_count} candidate(s) found")
    _summary(command, run, started)


def _progress(command: BaseCommand, started: float) -> Any:
    def report(run: SyncRun) -> None:
        command.stdout.write(
            f"[{time.monotonic() - started:7.1f}s] import {run.pages_done}/{run.total_pages}: "
            f"created {run.created_count}, updated {run.updated_count}, unchanged {run.unchanged_count}, "
            f"errors {run.failed_count}"
        )

    return report


def _summary(command: BaseCommand, run: SyncRun, started: float) -> None:
    command.stdout.write(
        command.style.SUCCESS(
            f"{run.get_kind_display()} #{run.pk} {run.status} in {time.monotonic() - started:.1f}s: "
            f"created {run.created_count}, updated {run.updated_count}, unchanged {run.unchanged_count}, "
            f"failed {run.failed_count}, CJ calls {run.cj_calls}"
        )
    )
    for error in run.errors[:10]:
        command.stderr.write(f"  {error['pid']}: {error['error']}: {error['message']}")
