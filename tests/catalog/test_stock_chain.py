"""A stock refresh is a chain of small jobs (CATALOG_STOCK_REFRESH_BATCH products each) on a real
burst worker, so the stock worker is never held by one long job."""

import pytest

from catalog.jobs import stock_refresh_scheduled_job, variants_stock_refresh_enqueue
from catalog.models import SyncRun
from catalog.sync.runs import products_sync
from config.queues import UPDATE_STOCK, get_queue
from tests.catalog.curated import import_catalog

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_run_of_20_products_is_4_jobs_of_5(cj_simulator, run_worker, settings):
    import_catalog(cj_simulator)  # the shop's 20 products (the sync reads only ours)
    products_sync(kind=SyncRun.Kind.FULL)
    settings.CATALOG_STOCK_REFRESH_BATCH = 5
    variants_stock_refresh_enqueue(variant_ids=None, trigger=SyncRun.Trigger.SCHEDULER)

    assert run_worker(UPDATE_STOCK) == {"finished": 4, "failed": 0}

    run = SyncRun.objects.get(kind=SyncRun.Kind.STOCK)
    assert (run.status, run.pages_done, run.total_pages, run.resumed_count) == ("succeeded", 4, 4, 0)
    assert cj_simulator.calls("product/stock/getInventoryByPid") == 20


def test_the_scheduler_does_not_start_a_second_run_while_a_chain_is_under_way(cj_simulator, settings):
    import_catalog(cj_simulator)  # the shop's 20 products (the sync reads only ours)
    products_sync(kind=SyncRun.Kind.FULL)
    settings.CATALOG_STOCK_REFRESH_BATCH = 5
    variants_stock_refresh_enqueue(variant_ids=None, trigger=SyncRun.Trigger.SCHEDULER)
    from catalog.jobs import variants_stock_refresh_job

    first = variants_stock_refresh_job(None, SyncRun.Trigger.SCHEDULER)  # the first link, run here

    assert (first["status"], first["pages_done"]) == ("running", 1)
    assert stock_refresh_scheduled_job() == {
        "status": "skipped",
        "reason": f"stock run {first['run_id']} is still running",
    }
    assert SyncRun.objects.filter(kind=SyncRun.Kind.STOCK).count() == 1
    assert get_queue(UPDATE_STOCK).count == 2  # the enqueued first run's job and the chain's next link
