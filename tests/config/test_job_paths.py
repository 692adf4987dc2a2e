"""Every job the project enqueues or schedules by dotted path imports to a callable, so renaming or
moving a job without updating its callers fails the build instead of the worker."""

import importlib
import re
from pathlib import Path

import pytest
from django.utils.module_loading import import_string
from rq import cron

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "catalog", "orders", "crm", "integrations", "webhooks")
APPS = "|".join(PACKAGES)
JOB_PATH = re.compile(rf"""["']((?:{APPS})\.jobs\.[A-Za-z_][A-Za-z0-9_]*)["']""")


def _job_paths_in_source() -> set[str]:
    """Quoted `<app>.jobs.<name>` strings in the project's modules (migrations aside)."""
    paths = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                paths.update(JOB_PATH.findall(path.read_text()))
    return paths


def _job_paths_scheduled(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Name -> dotted path of every job config/cron.py registers (as RQ's cron scheduler loads it)."""
    monkeypatch.setattr(cron, "_job_data_registry", [])
    importlib.reload(importlib.import_module("config.cron"))
    return {job["name"]: f"{job['func'].__module__}.{job['func'].__name__}" for job in cron._job_data_registry}


def test_every_job_path_in_the_source_imports_to_a_callable():
    paths = _job_paths_in_source()

    # The collector must find the paths the apps enqueue by (an empty set would pass vacuously).
    assert {
        "orders.jobs.order_forward_to_cj_job",
        "orders.jobs.order_sync_cj_status_job",
        "orders.jobs.order_pay_at_cj_job",
        "webhooks.jobs.webhook_event_process_job",
        "catalog.jobs.products_sync_job",
        "catalog.jobs.product_refresh_job",
        "catalog.jobs.variants_stock_refresh_job",
    } <= paths
    not_callable = sorted(path for path in paths if not callable(import_string(path)))
    assert not_callable == []


def test_every_scheduled_job_imports_to_a_callable_by_its_path(monkeypatch):
    scheduled = _job_paths_scheduled(monkeypatch)

    assert scheduled == {
        "sessions-clear-expired": "config.jobs.sessions_clear_expired_job",
        "catalog-incremental-sync": "catalog.jobs.incremental_sync_scheduled_job",
        "catalog-stock-refresh": "catalog.jobs.stock_refresh_scheduled_job",
        "catalog-import-rules": "catalog.jobs.import_rules_scheduled_job",
        "orders-sweep": "orders.jobs.orders_sweep_job",
        "orders-cj-balance-check": "orders.jobs.cj_balance_check_job",
        "webhooks-sweep": "webhooks.jobs.webhooks_sweep_scheduled_job",
    }
    assert all(callable(import_string(path)) for path in scheduled.values())


def test_a_renamed_job_is_caught():
    with pytest.raises(ImportError):
        import_string("orders.jobs.order_forward_to_cj_job_renamed")
