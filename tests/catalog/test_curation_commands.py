"""`sync_cj import|my-products|starter` against the real simulator, with their progress lines."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import ImportCandidate, ImportRule, Product, SyncRun
from config.queues import SYNC_PRODUCTS, get_queue
from integrations.cj.client import get_client

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLE_PID = "2408300610371613200"


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("sync_cj", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_by_pid_url_and_sku_prints_progress_and_a_summary(cj_simulator):
    pids = cj_simulator.info()["pids"]
    sku = get_client().get_product(pid=pids[2]).sku

    out, err = _run(
        "import", "--pid", pids[0], "--url", f"https://cjdropshipping.com/product/a-p-{pids[1]}.html", "--sku", sku
    )

    lines = out.splitlines()
    assert [line.split("] ", 1)[1] for line in lines[:3]] == [
        "import 1/3: created 1, updated 0, unchanged 0, errors 0",
        "import 2/3: created 2, updated 0, unchanged 0, errors 0",
        "import 3/3: created 3, updated 0, unchanged 0, errors 0",
    ]
    assert lines[3].startswith("Import from CJ #") and "succeeded" in lines[3]
    assert lines[3].endswith("created 3, updated 0, unchanged 0, failed 0, CJ calls 6")
    assert err == ""
    assert set(Product.objects.values_list("cj_pid", "is_published")) == {(pid, False) for pid in pids[:3]}


def test_import_publish_and_enqueue(cj_simulator):
    out, _ = _run("import", "--pid", SAMPLE_PID, "--publish", "--enqueue")

    queue = get_queue(SYNC_PRODUCTS)
    job = queue.fetch_job(queue.job_ids[0])
    assert out == f"queued catalog.jobs.products_import_job on sync-products: job {job.id}\n"
    assert job.args == ([["pid", SAMPLE_PID, True]], "command")
    assert Product.objects.count() == 0


def test_import_by_keyword_imports_the_first_page_of_cjs_search(cj_simulator):
    expected = {s.pid for s in get_client().list_products(page=1, size=100, keyword="Dog Toy").products}

    out, _ = _run("import", "--keyword", "Dog Toy")

    assert out.splitlines()[0] == "CJ search 'Dog Toy': 3 match(es), importing 3"
    assert set(Product.objects.values_list("cj_pid", flat=True)) == expected


def test_import_by_rule_finds_candidates_and_approve_imports_them(cj_simulator):
    rule = ImportRule.objects.create(name="Dog toys", keyword="Dog Toy")

    out, _ = _run("import", "--rule", str(rule.pk), "--approve")

    first = out.splitlines()[0]
    assert first.split("] ", 1)[1] == f"rules {rule.pk}: 1 page(s), 3 new candidate(s), 0 skipped, 50 points"
    assert set(ImportCandidate.objects.values_list("status", flat=True)) == {"imported"}
    assert Product.objects.count() == 3


def test_import_refuses_nothing_to_import_an_unknown_rule_and_a_bad_url(cj_simulator):
    with pytest.raises(CommandError, match="import needs --pid, --url, --sku, --keyword or --rule"):
        _run("import")
    with pytest.raises(CommandError, match="no import rule 999"):
        _run("import", "--rule", "999")
    with pytest.raises(CommandError, match="This CJ URL names no product"):
        _run("import", "--url", "https://cjdropshipping.com/list.html")
    assert cj_simulator.calls("product/query") == 0


def test_my_products_imports_what_the_cj_account_lists(cj_simulator):
    pids = cj_simulator.info()["pids"]
    for pid in pids[4:6]:
        get_client().add_to_my_product(pid=pid)

    out, _ = _run("my-products")

    assert out.splitlines()[0] == "CJ My Products: 2 product(s) not in the shop yet"
    assert set(Product.objects.values_list("cj_pid", flat=True)) == set(pids[4:6])
    assert cj_simulator.calls("product/addToMyProduct") == 2  # ours above; the import adds nothing again


def test_starter_fills_an_empty_shop_with_published_products_and_then_does_nothing(cj_simulator, api_client):
    dog_toys = {s.pid for s in get_client().list_products(page=1, size=100, keyword="Dog Toy").products}

    out, _ = _run("starter", "--if-empty")

    listed = {item["cj_pid"] for item in api_client.get("/api/products?limit=100").json()["results"]}
    assert listed == {SAMPLE_PID} | dog_toys
    assert ImportRule.objects.get().name == "Starter: Dog Toy"
    assert "starter rule: 3 candidate(s) found" in out
    assert set(SyncRun.objects.values_list("kind", "trigger")) == {("import", "bootstrap"), ("discovery", "bootstrap")}

    again, _ = _run("starter", "--if-empty")
    assert again == "catalog already holds products; nothing to do\n"


def test_starter_enqueued_runs_on_the_sync_worker(cj_simulator, run_worker):
    out, _ = _run("starter", "--enqueue", "--if-empty")

    assert out.startswith("queued catalog.jobs.starter_selection_import_job on sync-products: job ")
    assert run_worker("sync-products") == {"finished": 1, "failed": 0}
    assert Product.objects.filter(is_published=True).count() == 4
