"""The curated catalog against the real CJ simulator over HTTP: imports by pid, URL and SKU,
import rules → candidates → approval, the admin search's cache, CJ "My Products"."""

from decimal import Decimal

import pytest

from catalog.curation import (
    ImportRef,
    ImportReferenceInvalid,
    import_ref_parse,
    my_products_refs,
    pid_from_url,
    products_import,
)
from catalog.discovery import (
    SearchFilters,
    candidates_approve,
    candidates_reject,
    cj_search,
    discovery_points_allowance,
    import_rules_run,
)
from catalog.jobs import products_import_job
from catalog.models import ImportCandidate, ImportRule, Product, SyncRun
from integrations.cj.client import get_client
from integrations.cj.errors import CJNotFoundError

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLE_PID = "2408300610371613200"


def _dog_toys() -> dict[str, str]:
    """pid -> name of the simulator's products matching "Dog Toy", straight from CJ's search."""
    page = get_client().list_products(page=1, size=100, keyword="Dog Toy")
    return {summary.pid: summary.name for summary in page.products}


def test_import_by_pid_url_and_sku_creates_drafts_and_adds_them_to_my_products(cj_simulator):
    pids = cj_simulator.info()["pids"]
    client = get_client()
    by_sku = client.get_product(pid=pids[2])
    by_variant_sku = client.get_product(pid=pids[3])
    refs = [
        import_ref_parse(pids[0]),
        import_ref_parse(f"https://cjdropshipping.com/product/some-thing-p-{pids[1]}.html"),
        import_ref_parse(by_sku.sku),
        import_ref_parse(by_variant_sku.variants[0].sku),
    ]
    queries_before = cj_simulator.calls("product/query")

    run = products_import(refs=refs)

    assert [ref.kind for ref in refs] == ["pid", "pid", "sku", "sku"]
    assert (run.kind, run.status, run.created_count, run.failed_count, run.pages_done) == (
        "import",
        "succeeded",
        4,
        0,
        4,
    )
    assert set(Product.objects.values_list("cj_pid", "is_published")) == {(pid, False) for pid in pids[:4]}
    # One detail each; the variant SKU is tried as a product SKU first (CJ says not found), then as a variant SKU.
    assert cj_simulator.calls("product/query") - queries_before == 5
    assert cj_simulator.calls("product/addToMyProduct") == 4
    my_products = client.list_my_products(page=1, size=100)
    assert [summary.pid for summary in my_products.products] == pids[:4]
    assert cj_simulator.calls("product/listV2") == 0


def test_an_import_with_publish_is_on_sale_and_a_reimport_keeps_what_staff_decided(cj_simulator, api_client):
    products_import(refs=[ImportRef("pid", SAMPLE_PID, True)])
    product = Product.objects.get(cj_pid=SAMPLE_PID)
    assert product.is_published is True
    assert [item["cj_pid"] for item in api_client.get("/api/products").json()["results"]] == [SAMPLE_PID]

    again = products_import(refs=[ImportRef("pid", SAMPLE_PID, False)])

    assert (again.created_count, again.unchanged_count) == (0, 1)
    assert Product.objects.get(cj_pid=SAMPLE_PID).is_published is True


def test_an_unknown_pid_is_an_error_on_the_run_not_a_failed_run(cj_simulator):
    run = products_import(refs=[ImportRef("pid", "999999999999999999"), ImportRef("pid", SAMPLE_PID)])

    assert (run.status, run.created_count, run.failed_count) == ("succeeded", 1, 1)
    [error] = run.errors
    assert (error["pid"], error["error"]) == ("999999999999999999", "CJNotFoundError")
    assert error["message"].startswith("CJ product/query failed (code 1602001, requestId ")
    assert error["message"].endswith("): product not found")
    assert list(Product.objects.values_list("cj_pid", flat=True)) == [SAMPLE_PID]


@pytest.mark.parametrize(
    ("url", "pid"),
    [
        ("https://cjdropshipping.com/product/silicone-spoon-p-2408300610371613200.html", SAMPLE_PID),
        ("https://www.cjdropshipping.com/product-detail.html?id=2408300610371613200&from=x", SAMPLE_PID),
        (
            "https://cjdropshipping.com/product/x-p-1A2B3C4D-0000-4000-8000-000000000001.html",
            "1A2B3C4D-0000-4000-8000-000000000001",
        ),
    ],
)
def test_pid_from_a_cj_product_url(url, pid):
    assert pid_from_url(url) == pid


@pytest.mark.parametrize(
    "text", ["https://example.com/product/x-p-2408300610371613200.html", "https://cjdropshipping.com/", " ", "a\x00b"]
)
def test_a_reference_that_names_no_cj_product_is_refused(text):
    with pytest.raises(ImportReferenceInvalid):
        import_ref_parse(text)


def test_a_rule_produces_candidates_once_within_its_allowance(cj_simulator):
    expected = _dog_toys()
    assert len(expected) == 3  # indices 1, 10 and 19 of the 20 simulated products
    rule = ImportRule.objects.create(name="Dog toys", keyword="Dog Toy")
    lists_before = cj_simulator.calls("product/listV2")

    run = import_rules_run(rule_ids=[rule.pk], allowance=1000)

    assert (run.kind, run.status, run.created_count, run.cj_calls) == ("discovery", "succeeded", 3, 1)
    assert run.checkpoint == {"points_spent": 50, "points_allowance": 1000}
    assert dict(ImportCandidate.objects.values_list("cj_pid", "name")) == expected
    assert set(ImportCandidate.objects.values_list("status", "rule_id")) == {("new", rule.pk)}
    assert Product.objects.count() == 0  # candidates only: nothing imported without staff
    assert cj_simulator.calls("product/listV2") - lists_before == 1
    assert cj_simulator.calls("product/query") == 0

    again = import_rules_run(rule_ids=[rule.pk], allowance=1000)
    assert (again.created_count, again.unchanged_count) == (0, 3)
    assert ImportCandidate.objects.count() == 3


def test_a_rule_run_without_allowance_calls_nothing(cj_simulator, settings):
    settings.CJ_POINTS_DISCOVERY_DAILY = 120  # the points plan's cap for discovery
    rule = ImportRule.objects.create(name="Dog toys", keyword="Dog Toy", pages_per_run=5)

    runs = [import_rules_run() for _ in range(3)]  # one page (50 points) each while the 120 last

    assert [(run.cj_calls, run.checkpoint["points_spent"]) for run in runs] == [(1, 50), (1, 50), (0, 0)]
    assert [run.created_count for run in runs] == [3, 0, 0]
    assert runs[2].errors == [
        {"pid": None, "error": "AllowanceExhausted", "message": f"rule {rule.pk}: the discovery allowance is spent"}
    ]
    assert discovery_points_allowance() == 20
    assert cj_simulator.calls("product/listV2") == 2


def test_rule_filters_cost_bounds_and_minimum_stock(cj_simulator):
    listing = get_client().list_products(page=1, size=100)
    costs = sorted(summary.sell_price.low for summary in listing.products)
    low, high = costs[5], costs[14]
    rule = ImportRule.objects.create(name="Mid-priced", keyword="i", min_cost=low, max_cost=high, min_stock=1)
    everything = get_client().list_products(page=1, size=100, keyword="i")

    import_rules_run(rule_ids=[rule.pk], allowance=1000)

    expected = {
        s.pid for s in everything.products if low <= s.sell_price.low <= high and (s.warehouse_inventory or 0) >= 1
    }
    assert expected
    assert set(ImportCandidate.objects.values_list("cj_pid", flat=True)) == expected


def test_approving_imports_candidates_and_a_rejected_one_is_never_proposed_again(cj_simulator, api_client):
    drafts = ImportRule.objects.create(name="Dog toys", keyword="Dog Toy")
    import_rules_run(rule_ids=[drafts.pk], allowance=1000)
    first, second, third = ImportCandidate.objects.order_by("cj_pid")

    run = candidates_approve(candidate_ids=[first.pk, second.pk])
    rejected = candidates_reject(candidate_ids=[third.pk])

    assert (run.kind, run.created_count, run.failed_count) == ("import", 2, 0)
    assert rejected == 1
    assert dict(ImportCandidate.objects.values_list("cj_pid", "status")) == {
        first.cj_pid: "imported",
        second.cj_pid: "imported",
        third.cj_pid: "rejected",
    }
    assert set(Product.objects.values_list("cj_pid", "is_published")) == {(first.cj_pid, False), (second.cj_pid, False)}
    assert ImportCandidate.objects.get(pk=first.pk).product == Product.objects.get(cj_pid=first.cj_pid)
    assert api_client.get("/api/products").json()["results"] == []  # drafts
    assert candidates_approve(candidate_ids=[first.pk, third.pk]) is None  # decided already

    drafts.next_page = 1
    drafts.save()
    again = import_rules_run(rule_ids=[drafts.pk], allowance=1000)
    assert again.created_count == 0


def test_an_auto_publish_rule_puts_approved_candidates_on_sale(cj_simulator, api_client):
    rule = ImportRule.objects.create(name="Dog toys", keyword="Dog Toy", auto_publish=True)
    import_rules_run(rule_ids=[rule.pk], allowance=1000)

    candidates_approve(candidate_ids=list(ImportCandidate.objects.values_list("pk", flat=True)))

    listed = {item["cj_pid"] for item in api_client.get("/api/products").json()["results"]}
    assert listed == set(_dog_toys())


def test_the_search_page_is_cached_so_a_second_browse_costs_no_cj_call(cj_simulator):
    filters = SearchFilters(keyword="Dog Toy")
    first = cj_search(filters=filters)
    products_import(refs=[ImportRef("pid", first.items[0].pid)])

    second = cj_search(filters=filters)

    assert cj_simulator.calls("product/listV2") == 1  # the second browse came from the cache
    assert set(_dog_toys()) == {item.pid for item in second.items}
    assert (first.from_cache, second.from_cache) == (False, True)
    assert [item.pid for item in second.items] == [item.pid for item in first.items]
    assert [item.product_id is not None for item in second.items] == [True, False, False]  # read live
    assert first.items[0].product_id is None
    item = second.items[0]
    assert (item.price_low, item.is_published) == (Product.objects.get(cj_pid=item.pid).min_price, False)
    assert item.cost_low > Decimal(0)


def test_search_filters_ship_from_country_and_price_range(cj_simulator):
    everything = get_client().list_products(page=1, size=100)
    page = cj_search(
        filters=SearchFilters(keyword="i", country_code="US", min_price=Decimal("5"), max_price=Decimal("30"))
    )

    assert page.items
    for item in page.items:
        assert Decimal("5") <= item.cost_low <= Decimal("30")
        detail = get_client().get_product(pid=item.pid)
        assert any(inv.country_code == "US" and inv.total > 0 for v in detail.variants for inv in v.inventories)
    assert len(page.items) < len(everything.products)


def test_my_products_imports_what_the_account_lists_and_the_shop_lacks(cj_simulator):
    pids = cj_simulator.info()["pids"]
    client = get_client()
    for pid in pids[:3]:
        client.add_to_my_product(pid=pid)
    client.add_to_my_product(pid=pids[0])  # twice: CJ keeps one
    products_import(refs=[ImportRef("pid", pids[0])], add_to_my_products=False)

    refs = my_products_refs()
    run = products_import(refs=refs, add_to_my_products=False)

    assert [ref.value for ref in refs] == pids[1:3]
    assert run.created_count == 2
    assert set(Product.objects.values_list("cj_pid", flat=True)) == set(pids[:3])
    assert cj_simulator.calls("product/myProduct/query") == 1


def test_adding_an_unknown_product_to_my_products_is_refused_as_cj_does(cj_simulator):
    with pytest.raises(CJNotFoundError) as refused:
        get_client().add_to_my_product(pid="999999999999999999")

    assert refused.value.code == 1602001
    assert get_client().list_my_products().products == ()


def test_the_import_is_recorded_as_a_sync_run_with_its_trigger(cj_simulator):
    products_import(refs=[ImportRef("pid", SAMPLE_PID)], trigger=SyncRun.Trigger.ADMIN)

    run = SyncRun.objects.get()
    assert (run.kind, run.trigger, run.status, run.cj_calls) == ("import", "admin", "succeeded", 2)


def test_an_import_below_the_budget_reserve_fails_once_without_spending(cj_simulator, settings):
    settings.CJ_DAILY_POINTS, settings.CJ_BUDGET_RESERVE_POINTS = 100, 100  # discovery refused from the start

    result = products_import_job([["pid", SAMPLE_PID, False]], "command")

    run = SyncRun.objects.get()
    assert result["status"] == "failed"
    assert (run.kind, run.status, [error["error"] for error in run.errors]) == (
        "import",
        "failed",
        ["CJQuotaExceededError"],
    )
    assert Product.objects.count() == 0
    assert cj_simulator.calls("product/query") == 0
