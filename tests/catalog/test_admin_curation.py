"""The curated catalog in the admin against the real simulator: CJ search (cached), import by
reference and by selection, candidates approved or rejected in bulk, publish / unpublish."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from catalog.discovery import import_rules_run
from catalog.models import ImportCandidate, ImportRule, Product, SyncRun
from config.queues import SYNC_PRODUCTS, get_queue
from tests.catalog.factories import ProductFactory

SEARCH = "/admin/catalog/importrule/cj-search/"
CANDIDATES = "/admin/catalog/importcandidate/"
PRODUCTS = "/admin/catalog/product/"
SAMPLE_PID = "2408300610371613200"

pytestmark = pytest.mark.django_db(transaction=True)


def _staff(*, can_spend_points: bool = True) -> Client:
    user = get_user_model().objects.create_user(username="curator", password="pw-curator-1", is_staff=True)
    codenames = ["view_importrule", "view_importcandidate", "change_importcandidate", "view_product", "change_product"]
    if can_spend_points:
        codenames.append("start_sync")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="catalog", codename__in=codenames))
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_search_shows_cost_our_price_stock_and_a_second_view_is_served_from_the_cache(cj_simulator):
    client = _staff()

    first = client.get(SEARCH, {"keyword": "Dog Toy"})
    second = client.get(SEARCH, {"keyword": "Dog Toy"})

    assert first.status_code == second.status_code == 200
    items = first.context["result"].items
    assert len(items) == 3
    assert '<input type="checkbox" name="pid" value="' + items[0].pid + '" class="cj-pick">' in first.content.decode()
    assert f"<td>{items[0].price_low}" in first.content.decode()
    assert "(cached)" in second.content.decode()
    assert cj_simulator.calls("product/listV2") == 1
    # CJ's images load from CJ's CDN (https only); everything else stays 'self'.
    assert "img-src 'self' https:" in first["Content-Security-Policy"]
    assert "default-src 'self'" in first["Content-Security-Policy"]


def test_import_by_reference_inline_and_checked_products_queued(cj_simulator):
    client = _staff()
    page = client.get(SEARCH, {"keyword": "Dog Toy"}).content.decode()
    pids = re.findall(r'name="pid" value="(\d+)" class="cj-pick"', page)

    by_url = client.post(
        SEARCH,
        {"reference": f"https://cjdropshipping.com/product/x-p-{SAMPLE_PID}.html", "csrfmiddlewaretoken": _csrf(page)},
        follow=True,
    )
    several = client.post(
        f"{SEARCH}?keyword=Dog+Toy", {"pid": pids[:2], "csrfmiddlewaretoken": _csrf(page)}, follow=True
    )

    assert [str(m) for m in by_url.context["messages"]] == [f"Imported {SAMPLE_PID} as a draft."]
    assert list(Product.objects.values_list("cj_pid", "is_published")) == [(SAMPLE_PID, False)]
    queue = get_queue(SYNC_PRODUCTS)
    job = queue.fetch_job(queue.job_ids[0])
    assert (job.func_name, job.args) == (
        "catalog.jobs.products_import_job",
        ([["pid", pids[0], False], ["pid", pids[1], False]], "admin"),
    )
    assert [str(m) for m in several.context["messages"]] == [
        f"2 product(s) queued for import on sync-products (job {job.id})."
    ]


def test_a_bad_reference_is_a_message_not_an_error_page(cj_simulator):
    client = _staff()
    page = client.get(SEARCH).content.decode()

    response = client.post(
        SEARCH, {"reference": "https://example.com/p-1.html", "csrfmiddlewaretoken": _csrf(page)}, follow=True
    )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["Not a CJ product URL (cjdropshipping.com)."]
    assert cj_simulator.calls("product/query") == 0


def test_search_needs_the_permission_to_spend_points(cj_simulator):
    response = _staff(can_spend_points=False).get(SEARCH, {"keyword": "Dog Toy"})

    assert response.status_code == 403
    assert cj_simulator.calls("product/listV2") == 0


def test_candidates_approved_and_rejected_in_bulk(cj_simulator, run_worker):
    rule = ImportRule.objects.create(name="Dog toys", keyword="Dog Toy", auto_publish=True)
    import_rules_run(rule_ids=[rule.pk], allowance=1000)
    first, second, third = ImportCandidate.objects.order_by("pk")
    client = _staff()
    token = _csrf(client.get(CANDIDATES).content.decode())

    approve = client.post(
        CANDIDATES,
        {"action": "approve", "_selected_action": [first.pk, second.pk], "csrfmiddlewaretoken": token},
        follow=True,
    )
    reject = client.post(
        CANDIDATES, {"action": "reject", "_selected_action": [third.pk], "csrfmiddlewaretoken": token}, follow=True
    )
    assert run_worker("sync-products") == {"finished": 1, "failed": 0}

    job_message = [str(m) for m in approve.context["messages"]]
    assert len(job_message) == 1 and job_message[0].startswith("2 candidate(s) queued for import (job ")
    assert [str(m) for m in reject.context["messages"]] == ["1 candidate(s) rejected."]
    assert dict(ImportCandidate.objects.values_list("pk", "status")) == {
        first.pk: "imported",
        second.pk: "imported",
        third.pk: "rejected",
    }
    assert set(Product.objects.values_list("cj_pid", "is_published")) == {
        (first.cj_pid, True),
        (second.cj_pid, True),
    }


def test_publish_and_unpublish_actions(cj_simulator, api_client):
    draft = ProductFactory(is_published=False)
    client = _staff()
    token = _csrf(client.get(PRODUCTS).content.decode())

    client.post(PRODUCTS, {"action": "publish", "_selected_action": [draft.pk], "csrfmiddlewaretoken": token})
    assert Product.objects.get(pk=draft.pk).is_published is True
    assert [item["id"] for item in api_client.get("/api/products").json()["results"]] == [draft.pk]

    client.post(PRODUCTS, {"action": "unpublish", "_selected_action": [draft.pk], "csrfmiddlewaretoken": token})
    assert Product.objects.get(pk=draft.pk).is_published is False
    assert api_client.get("/api/products").json()["results"] == []


def test_run_now_queues_the_rules_and_the_worker_finds_candidates(cj_simulator, run_worker):
    rule = ImportRule.objects.create(name="Dog toys", keyword="Dog Toy")
    client = _staff()
    token = _csrf(client.get("/admin/catalog/importrule/").content.decode())

    response = client.post(
        "/admin/catalog/importrule/",
        {"action": "run_now", "_selected_action": [rule.pk], "csrfmiddlewaretoken": token},
        follow=True,
    )
    assert run_worker("sync-products") == {"finished": 1, "failed": 0}

    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("Rules queued on sync-products (job ")
    assert ImportCandidate.objects.filter(rule=rule, status="new").count() == 3
    run = SyncRun.objects.get()
    assert (run.kind, run.trigger, run.created_count, run.checkpoint["points_spent"]) == ("discovery", "admin", 3, 50)
