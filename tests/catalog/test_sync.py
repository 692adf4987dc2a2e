"""Product and stock sync against the real CJ simulator over HTTP (real client, limiter, Redis, PostgreSQL)."""

from decimal import Decimal

import psycopg
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection

from catalog.cache import LIST_VERSION_KEY, detail_key, products_cache
from catalog.models import Product, SyncRun, Variant
from catalog.services import product_update_by_staff
from catalog.sync.runs import _LOCKS, SyncAlreadyRunning, products_sync
from catalog.sync.stock import variants_stock_refresh
from integrations.cj.client import get_client
from integrations.cj.errors import CJPermanentError
from orders.services import OrderLineInput, ShippingAddress, order_place
from tests.catalog.curated import import_catalog
from tests.catalog.factories import VariantFactory


@pytest.fixture
def staff_user(staff_user):
    """Staff who may start a sync and look CJ up live (both need `catalog.start_sync`)."""
    staff_user.user_permissions.add(Permission.objects.get(content_type__app_label="catalog", codename="start_sync"))
    return staff_user


pytestmark = pytest.mark.django_db(transaction=True)


def _cj_catalog() -> dict[str, set[str]]:
    """pid -> vids, straight from the simulator through the client."""
    client = get_client()
    page = client.list_products(page=1, size=100)
    return {summary.pid: {v.vid for v in client.list_variants(pid=summary.pid)} for summary in page.products}


def test_import_creates_exactly_the_chosen_products_then_a_full_sync_reads_only_them_and_writes_nothing(
    cj_simulator,
):
    # when: staff imported 19 of CJ's 20 products
    chosen = cj_simulator.info()["pids"][:19]
    run = import_catalog(cj_simulator, pids=chosen)

    # then
    expected = {pid: vids for pid, vids in _cj_catalog().items() if pid in chosen}
    assert {
        pid: set(Product.objects.get(cj_pid=pid).variants.values_list("cj_vid", flat=True)) for pid in expected
    } == expected
    assert Product.objects.count() == 19
    assert Variant.objects.count() == sum(len(vids) for vids in expected.values())
    assert (run.kind, run.status, run.created_count, run.updated_count, run.failed_count) == (
        "import",
        "succeeded",
        19,
        0,
        0,
    )
    assert run.cj_calls == 19  # one product/query per product, no listing
    lists_before = cj_simulator.calls("product/listV2")

    stamps = dict(Variant.objects.values_list("cj_vid", "updated_at"))
    product_stamps = dict(Product.objects.values_list("cj_pid", "updated_at"))
    calls_before = cj_simulator.calls("product/query")
    second = products_sync(kind=SyncRun.Kind.FULL)

    assert (second.created_count, second.updated_count, second.unchanged_count, second.variants_written) == (
        0,
        0,
        19,
        0,
    )
    assert dict(Variant.objects.values_list("cj_vid", "updated_at")) == stamps
    assert dict(Product.objects.values_list("cj_pid", "updated_at")) == product_stamps
    assert cj_simulator.calls("product/query") - calls_before == 19  # ours only: never the 20th product
    assert cj_simulator.calls("product/listV2") == lists_before  # the sync read no page of CJ's catalogue
    assert not Product.objects.filter(cj_pid=cj_simulator.info()["pids"][19]).exists()


def test_incremental_sync_picks_up_a_price_change_and_the_api_shows_it(cj_simulator, api_client, settings):
    settings.CATALOG_MAX_PRICE_CHANGE_PERCENT = 0  # the change to 50.00 applies at once
    import_catalog(cj_simulator)
    variant = Variant.objects.order_by("pk").first()
    url = f"/api/products/{variant.product_id}"
    before = api_client.get(url).json()  # now cached
    assert {v["cj_vid"]: v["price"] for v in before["variants"]}[variant.cj_vid] == str(variant.price)
    cj_simulator.set_price(variant.cj_vid, "50.00")
    queries_before = cj_simulator.calls("product/query")

    run = products_sync(kind=SyncRun.Kind.INCREMENTAL)

    assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 1, 19)
    assert cj_simulator.calls("product/query") - queries_before == 20  # the batch (40) holds all 20
    assert cj_simulator.calls("product/listV2") == 0
    after = api_client.get(url).json()
    assert {v["cj_vid"]: v["price"] for v in after["variants"]}[variant.cj_vid] == "101.90"  # 50 * 2 + 1 -> .90


class Killed(BaseException):
    """Stands for SIGKILL: not an Exception, so the run is left `running` like a dead worker's."""


def test_a_killed_run_resumes_from_its_checkpoint(cj_simulator, settings):
    settings.CATALOG_SYNC_PAGE_SIZE = 5  # 4 pages
    import_catalog(cj_simulator)

    def kill_after_page_two(run: SyncRun) -> None:
        if run.pages_done == 2:
            raise Killed

    with pytest.raises(Killed):
        products_sync(kind=SyncRun.Kind.FULL, progress=kill_after_page_two)
    dead = SyncRun.objects.get(kind="full")
    assert (dead.status, dead.checkpoint["page"], dead.unchanged_count) == ("running", 2, 10)
    lists_before, queries_before = cj_simulator.calls("product/listV2"), cj_simulator.calls("product/query")

    resumed = products_sync(kind=SyncRun.Kind.FULL)

    assert resumed.pk == dead.pk
    assert (resumed.status, resumed.resumed_count, resumed.pages_done, resumed.unchanged_count) == (
        "succeeded",
        1,
        4,
        20,
    )
    assert cj_simulator.calls("product/listV2") == lists_before == 0
    assert cj_simulator.calls("product/query") - queries_before == 10  # pages 3 and 4 only
    assert Product.objects.count() == 20


def test_a_product_missing_twice_becomes_inactive(cj_simulator):
    import_catalog(cj_simulator)
    gone = Product.objects.order_by("pk").first()
    cj_simulator.remove_product(gone.cj_pid, delete=True)

    first = products_sync(kind=SyncRun.Kind.FULL)
    gone.refresh_from_db()
    assert (gone.status, gone.consecutive_misses, first.deactivated_count) == ("active", 1, 0)

    second = products_sync(kind=SyncRun.Kind.FULL)
    gone.refresh_from_db()
    assert (gone.status, gone.consecutive_misses, second.deactivated_count) == ("inactive", 2, 1)
    assert Product.objects.filter(status="active").count() == 19


def test_a_staff_edit_survives_a_sync(cj_simulator, settings):
    settings.CATALOG_MAX_PRICE_CHANGE_PERCENT = 0  # the change to 77.00 applies at once
    import_catalog(cj_simulator)
    product = Product.objects.order_by("pk").first()
    product_update_by_staff(product=product, name="Our own name", description="Ours.", status="active")
    cj_simulator.set_price(product.variants.first().cj_vid, "77.00")

    run = products_sync(kind=SyncRun.Kind.INCREMENTAL)

    product.refresh_from_db()
    assert run.updated_count == 1
    assert (product.name, product.description) == ("Our own name", "Ours.")
    assert product.variants.filter(supplier_cost=Decimal("77.00")).count() == 1


class OneBadProduct:
    """The real client, except that one product's detail is refused as CJ refuses a bad request."""

    def __init__(self, bad_pid: str) -> None:
        self.client, self.bad_pid = get_client(), bad_pid

    def get_product(self, *, pid: str, **kwargs):
        if pid == self.bad_pid:
            raise CJPermanentError("Param error", code=1600300, endpoint="product/query")
        return self.client.get_product(pid=pid, **kwargs)


def test_one_bad_product_is_recorded_and_does_not_abort_the_run(cj_simulator):
    import_catalog(cj_simulator)
    bad_pid = cj_simulator.info()["pids"][3]

    run = products_sync(kind=SyncRun.Kind.FULL, client=OneBadProduct(bad_pid))

    assert (run.status, run.unchanged_count, run.failed_count, run.deactivated_count) == ("succeeded", 19, 1, 0)
    assert run.errors == [
        {
            "pid": bad_pid,
            "error": "CJPermanentError",
            "message": "CJ product/query failed (code 1600300, requestId None): Param error",
        }
    ]
    assert Product.objects.get(cj_pid=bad_pid).consecutive_misses == 0  # refused is not missing


def test_only_one_products_sync_runs_at_a_time(cj_simulator):
    settings_dict = connection.settings_dict
    with psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        dbname=settings_dict["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [_LOCKS["products"]])
        with pytest.raises(SyncAlreadyRunning):
            products_sync(kind=SyncRun.Kind.FULL)
    assert cj_simulator.calls("product/query") == 0
    assert SyncRun.objects.count() == 0


def test_stock_refresh_updates_changed_stock_and_never_zeroes_a_missing_answer(cj_simulator):
    import_catalog(cj_simulator)
    product = Product.objects.order_by("pk").first()
    changed = product.variants.order_by("pk").first()
    for row in get_client().get_stock_by_vid(vid=changed.cj_vid):
        cj_simulator.set_stock(changed.cj_vid, 0, country_code=row.country_code)
    # A variant we hold that CJ's stock answer does not mention.
    unanswered = VariantFactory(product=product, cj_vid="NOT-IN-CJ-ANSWER", stock=42)

    run = variants_stock_refresh(variant_ids=[changed.pk, unanswered.pk])

    assert dict(Variant.objects.filter(pk__in=[changed.pk, unanswered.pk]).values_list("pk", "stock")) == {
        changed.pk: 0,
        unanswered.pk: 42,
    }
    assert (run.status, run.updated_count, run.unchanged_count, run.cj_calls) == ("succeeded", 1, 1, 1)


def test_stock_refresh_never_gives_back_units_our_open_orders_hold(cj_simulator):
    import_catalog(cj_simulator)
    variant = Variant.objects.order_by("pk").first()
    for row in get_client().get_stock_by_vid(vid=variant.cj_vid):
        cj_simulator.set_stock(variant.cj_vid, 0, country_code=row.country_code)
    cj_simulator.set_stock(variant.cj_vid, 5, country_code="CN")
    variants_stock_refresh(variant_ids=[variant.pk])
    order, _created = order_place(
        email="ada@example.com", name="Ada", phone="", address=ShippingAddress(line1="1 Main St", city="Austin",
        province="TX", country_code="US"), lines=[OrderLineInput(variant_id=variant.pk, quantity=3)],
        logistic_name="CJPacket Ordinary", shipping_total=Decimal("3.00"), payment_reference="paid-elsewhere",
    )  # fmt: skip
    assert Variant.objects.filter(pk=variant.pk).values_list("stock", "cj_stock").get() == (2, 5)

    # CJ has not seen our order: its figure is still 5, and refreshing it gives nothing back
    run = variants_stock_refresh(variant_ids=[variant.pk])
    assert (run.updated_count, run.unchanged_count) == (0, 1)
    # CJ sold 3 elsewhere: 2 left, both held by our order
    cj_simulator.set_stock(variant.cj_vid, 2, country_code="CN")
    run = variants_stock_refresh(variant_ids=[variant.pk])
    assert run.updated_count == 1
    assert Variant.objects.filter(pk=variant.pk).values_list("stock", "cj_stock").get() == (0, 2)
    assert Product.objects.get(pk=variant.product_id).is_in_stock == any(
        Variant.objects.filter(product_id=variant.product_id, status="active").values_list("stock", flat=True)
    )
    assert order.status == "paid"


def test_stock_refresh_drops_cached_lists_only_when_an_in_stock_flag_changes(
    cj_simulator, django_capture_on_commit_callbacks
):
    import_catalog(cj_simulator)
    product = Product.objects.filter(is_in_stock=True).order_by("pk").first()
    variants = list(product.variants.filter(status="active"))
    products_cache().set(LIST_VERSION_KEY, "before", None)
    products_cache().set(detail_key(product.pk), b"cached detail")

    # More stock on one variant: the detail changes, the lists do not.
    first = variants[0]
    row = get_client().get_stock_by_vid(vid=first.cj_vid)[0]
    cj_simulator.set_stock(first.cj_vid, row.total + 1, country_code=row.country_code)
    with django_capture_on_commit_callbacks(execute=True):
        variants_stock_refresh(variant_ids=[first.pk])
    assert products_cache().get(LIST_VERSION_KEY) == "before"
    assert products_cache().get(detail_key(product.pk)) is None

    # Every variant sold out: the product leaves the in-stock lists.
    for variant in variants:
        for row in get_client().get_stock_by_vid(vid=variant.cj_vid):
            cj_simulator.set_stock(variant.cj_vid, 0, country_code=row.country_code)
    with django_capture_on_commit_callbacks(execute=True):
        variants_stock_refresh(variant_ids=[variant.pk for variant in variants])
    assert products_cache().get(LIST_VERSION_KEY) != "before"
    assert Product.objects.get(pk=product.pk).is_in_stock is False


def test_api_sync_is_queued_and_its_status_readable(cj_simulator, staff_client, run_worker):
    import_catalog(cj_simulator)
    response = staff_client.post("/api/products/sync", {"kind": "full"}, format="json")
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    assert response.json()["status_url"] == f"http://testserver/api/jobs/{job_id}"
    assert staff_client.get(f"/api/jobs/{job_id}").json()["status"] == "queued"

    assert run_worker("sync-products") == {"finished": 1, "failed": 0}

    status = staff_client.get(f"/api/jobs/{job_id}").json()
    run = SyncRun.objects.get(kind="full")
    assert (status["status"], status["error"]) == ("finished", None)
    assert status["result"] == {
        "run_id": run.pk,
        "kind": "full",
        "status": "succeeded",
        "pages_done": 1,
        "total_pages": 1,
        "created": 0,
        "updated": 0,
        "unchanged": 20,
        "failed": 0,
        "deactivated": 0,
        "cj_calls": 20,
    }
    assert (run.trigger, run.job_id) == ("api", job_id)
    assert Product.objects.count() == 20


def test_api_sync_rejects_an_unknown_kind(staff_client):
    response = staff_client.post("/api/products/sync", {"kind": "everything"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["kind"]


def test_unknown_job_is_404(staff_client):
    response = staff_client.get("/api/jobs/no-such-job")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_sync_cj_command_runs_in_the_foreground_and_enqueues(cj_simulator, capsys):
    call_command("sync_cj", "products", "--enqueue", "--if-empty")
    queued = capsys.readouterr().out
    assert "queued catalog.jobs.products_sync_job on sync-products: job " in queued

    import_catalog(cj_simulator)
    call_command("sync_cj", "all", "--full")
    out = capsys.readouterr().out
    assert "full page 1/1: created 0, updated 0, unchanged 20" in out
    assert "Full product sync #" in out and "succeeded" in out
    assert "Stock refresh #" in out

    call_command("sync_cj", "products", "--if-empty")
    assert capsys.readouterr().out == "catalog already holds products; nothing to do\n"


def test_cj_product_lookup_is_live_cached_and_404_for_unknown(cj_simulator, staff_client):
    pid = cj_simulator.info()["pids"][0]

    first = staff_client.get(f"/api/cj/product/{pid}")
    second = staff_client.get(f"/api/cj/product/{pid}")
    unknown = staff_client.get("/api/cj/product/000000000000")

    assert first.status_code == 200
    assert first.json()["pid"] == pid
    assert second.json() == first.json()
    assert cj_simulator.calls("product/query") == 2  # the pid once (then cached) and the unknown one
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_cj_stock_lookup_lists_every_variant(cj_simulator, staff_client):
    pid = cj_simulator.info()["pids"][0]
    vids = {v.vid for v in get_client().list_variants(pid=pid)}

    response = staff_client.get(f"/api/cj/stock?pid={pid}")

    assert response.status_code == 200
    body = response.json()
    assert body["pid"] == pid
    assert {variant["vid"] for variant in body["variants"]} == vids
    assert all(variant["total"] == sum(w["total"] for w in variant["warehouses"]) for variant in body["variants"])


def test_a_product_with_an_implausible_cost_is_recorded_failed_at_once_and_the_run_goes_on(cj_simulator):
    # given: CJ answers one variant's cost as the JSON number 1e999999
    pid = cj_simulator.info()["pids"][3]
    bad_vid = get_client().list_variants(pid=pid)[0].vid
    cj_simulator.set_price(bad_vid, "1e999999")
    queries_before = cj_simulator.calls("product/query")

    # when: staff import the whole simulated catalogue
    run = import_catalog(cj_simulator)

    # then: one detail call for it (no retry), the product skipped, every other one written
    assert cj_simulator.calls("product/query") - queries_before == 20
    assert (run.status, run.created_count, run.failed_count) == ("succeeded", 19, 1)
    assert not Product.objects.filter(cj_pid=pid).exists()
    assert run.errors == [
        {
            "pid": pid,
            "error": "CJPermanentError",
            "message": "CJ product/query failed (code None, requestId None): unexpected answer: "
            "variantSellPrice is 'inf', expected an amount in [0.01, 1000000)",
        }
    ]


def test_incremental_syncs_read_our_products_in_turn_a_batch_each(cj_simulator, settings):
    settings.CATALOG_INCREMENTAL_SYNC_BATCH = 8
    import_catalog(cj_simulator)
    ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    queries_before = cj_simulator.calls("product/query")

    runs = [products_sync(kind=SyncRun.Kind.INCREMENTAL) for _ in range(3)]

    assert [run.checkpoint["product_ids"] for run in runs] == [ids[:8], ids[8:16], ids[16:] + ids[:4]]
    assert [run.unchanged_count for run in runs] == [8, 8, 8]
    assert cj_simulator.calls("product/query") - queries_before == 24
    assert cj_simulator.calls("product/listV2") == 0
