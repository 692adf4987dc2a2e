"""Sync runs stopped by Ctrl-C or SIGTERM are closed ("Interrupted"), and `sync_cj resume` continues
them, against the CJ simulator over HTTP (the interrupt is injected into the client's stock call)."""

import os
import signal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Product, SyncRun
from catalog.sync import stock
from catalog.sync.runs import products_sync
from catalog.sync.stock import variants_stock_refresh
from integrations.cj.client import get_client
from tests.catalog.curated import import_catalog

pytestmark = pytest.mark.django_db(transaction=True)

STOCK_CALL = "product/stock/getInventoryByPid"
INTERRUPTED = {
    "pid": None,
    "error": "Interrupted",
    "message": "Stopped before it finished; `sync_cj resume` continues it.",
}


class InterruptingClient:
    """The real client, whose stock call number `at` runs `interrupt` instead (Ctrl-C or SIGTERM)."""

    def __init__(self, *, at: int, interrupt: Any) -> None:
        self.client, self.at, self.interrupt, self.stock_calls = get_client(), at, interrupt, 0

    def get_stock_by_pid(self, *, pid: str) -> Any:
        self.stock_calls += 1
        if self.stock_calls == self.at:
            self.interrupt()
        return self.client.get_stock_by_pid(pid=pid)


def _ctrl_c() -> None:
    raise KeyboardInterrupt


def _sigterm() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


@pytest.fixture
def catalog(cj_simulator, monkeypatch):
    """The simulator's 20 products imported; stock refreshed in batches of 5 products."""
    import_catalog(cj_simulator)
    monkeypatch.setattr(stock, "BATCH_PRODUCTS", 5)
    return sorted(Product.objects.values_list("pk", flat=True))


def test_a_stock_run_stopped_by_ctrl_c_is_closed_with_its_checkpoint(catalog, cj_simulator):
    with pytest.raises(KeyboardInterrupt):
        variants_stock_refresh(client=InterruptingClient(at=8, interrupt=_ctrl_c))  # in the second batch

    run = SyncRun.objects.get(kind=SyncRun.Kind.STOCK)
    assert (run.status, run.finished_at is not None, run.pages_done, run.total_pages) == ("failed", True, 1, 4)
    assert run.checkpoint == {"variant_ids": None, "product_id": catalog[4]}
    assert run.errors == [INTERRUPTED]


def test_sync_cj_resume_continues_a_stopped_stock_run_after_its_checkpoint(catalog, cj_simulator):
    with pytest.raises(KeyboardInterrupt):
        variants_stock_refresh(client=InterruptingClient(at=8, interrupt=_ctrl_c))
    stopped = SyncRun.objects.get(kind=SyncRun.Kind.STOCK)
    calls_before, out = cj_simulator.calls(STOCK_CALL), StringIO()

    call_command("sync_cj", "resume", stdout=out)

    run = SyncRun.objects.get(kind=SyncRun.Kind.STOCK)
    assert (run.pk, run.status, run.resumed_count, run.pages_done, run.total_pages) == (
        stopped.pk,
        "succeeded",
        1,
        4,
        4,
    )
    assert cj_simulator.calls(STOCK_CALL) - calls_before == 15  # the products after the first batch only
    assert out.getvalue().splitlines()[0] == f"resuming Stock refresh #{run.pk} after page 1"


@pytest.mark.parametrize(
    ("interrupt", "status", "name"), [(_ctrl_c, 130, "SIGINT"), (_sigterm, 143, "SIGTERM")], ids=["ctrl-c", "sigterm"]
)
def test_sync_cj_stock_stopped_closes_the_run_and_says_so_in_one_line(
    catalog, cj_simulator, monkeypatch, interrupt, status, name
):
    monkeypatch.setattr(stock, "cj_client", lambda: InterruptingClient(at=3, interrupt=interrupt))
    err, handler_before = StringIO(), signal.getsignal(signal.SIGTERM)

    with pytest.raises(SystemExit) as exited:
        call_command("sync_cj", "stock", stdout=StringIO(), stderr=err)

    run = SyncRun.objects.get(kind=SyncRun.Kind.STOCK)
    assert (exited.value.code, run.status, run.errors, run.checkpoint) == (
        status,
        "failed",
        [INTERRUPTED],
        {"variant_ids": None},
    )
    assert err.getvalue() == (
        f"interrupted by {name}: the sync run in progress is closed as failed (Interrupted); "
        "`manage.py sync_cj resume` continues it\n"
    )
    assert signal.getsignal(signal.SIGTERM) == handler_before  # the command's handler is gone


def test_a_products_run_stopped_by_ctrl_c_is_closed_and_resumed(cj_simulator, settings):
    settings.CATALOG_SYNC_PAGE_SIZE = 5  # 4 pages
    import_catalog(cj_simulator)

    def ctrl_c_after_page_two(run: SyncRun) -> None:
        if run.pages_done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        products_sync(kind=SyncRun.Kind.FULL, progress=ctrl_c_after_page_two)
    stopped = SyncRun.objects.get(kind="full")
    assert (stopped.status, stopped.finished_at is not None, stopped.errors) == ("failed", True, [INTERRUPTED])

    call_command("sync_cj", "resume", "--run", str(stopped.pk), stdout=StringIO())

    run = SyncRun.objects.get(kind="full")
    assert (run.pk, run.status, run.resumed_count, run.pages_done, Product.objects.count()) == (
        stopped.pk,
        "succeeded",
        1,
        4,
        20,
    )


def test_sync_cj_resume_explains_in_one_line_when_there_is_nothing_to_resume(catalog):
    finished = variants_stock_refresh()

    with pytest.raises(CommandError) as nothing:
        call_command("sync_cj", "resume", stdout=StringIO())
    with pytest.raises(CommandError) as finished_run:
        call_command("sync_cj", "resume", "--run", str(finished.pk), stdout=StringIO())
    with pytest.raises(CommandError) as misplaced:
        call_command("sync_cj", "stock", "--run", str(finished.pk), stdout=StringIO())

    assert str(nothing.value) == "no unfinished products or stock run of the last 24 hours to resume"
    assert str(finished_run.value) == f"run {finished.pk} is not an unfinished products or stock run"
    assert str(misplaced.value) == "--run goes with resume only"


def test_the_admin_resumes_a_stopped_stock_run_on_a_real_worker(catalog, cj_simulator, client, run_worker):
    # given: a stock refresh stopped by Ctrl-C after its first batch
    from django.contrib.auth import get_user_model

    with pytest.raises(KeyboardInterrupt):
        variants_stock_refresh(client=InterruptingClient(at=8, interrupt=_ctrl_c))
    stopped = SyncRun.objects.get(kind=SyncRun.Kind.STOCK)
    calls_before = cj_simulator.calls(STOCK_CALL)
    client.force_login(get_user_model().objects.create_superuser(username="ops", email="", password="pw-ops-9"))

    # when: staff resume it from the sync-run list, and a worker takes the job
    client.post("/admin/catalog/syncrun/", {"action": "resume", "_selected_action": [stopped.pk]})
    assert run_worker("update-stock") == {"finished": 1, "failed": 0}

    # then: the same run finished, after its checkpoint only
    run = SyncRun.objects.get(kind=SyncRun.Kind.STOCK)
    assert (run.pk, run.status, run.resumed_count, run.pages_done, run.total_pages) == (
        stopped.pk,
        "succeeded",
        1,
        4,
        4,
    )
    assert cj_simulator.calls(STOCK_CALL) - calls_before == 15
