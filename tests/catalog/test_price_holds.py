"""A CJ cost change beyond CATALOG_MAX_PRICE_CHANGE_PERCENT is held for staff, on both write paths
(the sync's bulk merge and VARIANT webhooks): the variant keeps its cost and price until staff
accept the new cost or keep the current one in the admin."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from catalog.models import Product, SyncRun, Variant
from catalog.services import variant_pending_cost_accept, variant_pending_cost_reject, variant_update_from_cj
from catalog.sync.runs import products_sync
from catalog.sync.upsert import products_upsert
from config.queues import PROCESS_WEBHOOK
from tests.catalog.curated import import_catalog
from tests.catalog.factories import VariantFactory, cj_product, cj_variant
from tests.webhooks.conftest import message, post_signed
from webhooks.models import WebhookEvent

VARIANTS = "/admin/catalog/variant/"


def _page(cost_1: str) -> list:
    return [
        cj_product(
            pid="P1",
            variants=(cj_variant(vid="P1-1", pid="P1", price=cost_1), cj_variant(vid="P1-2", pid="P1", price="6.00")),
        )
    ]


@pytest.mark.django_db
def test_the_sync_holds_a_97_percent_drop_and_keeps_cost_and_price():
    # given: P1-1 costs 80.00 (our price 161.90)
    products_upsert(products=_page("80.00"))
    before = Variant.objects.get(cj_vid="P1-1")
    assert (before.supplier_cost, before.price) == (Decimal("80.00"), Decimal("161.90"))

    # when: CJ says 2.40 (-97 %)
    result = products_upsert(products=_page("2.40"))

    # then
    held = Variant.objects.get(cj_vid="P1-1")
    assert (held.supplier_cost, held.price, held.pending_supplier_cost) == (
        Decimal("80.00"),
        Decimal("161.90"),
        Decimal("2.40"),
    )
    assert held.pending_since is not None
    assert result.changed_price_variant_ids == set()
    assert Product.objects.get(cj_pid="P1").max_price == Decimal("161.90")
    # the same proposal again writes nothing and keeps the day the hold started
    again = products_upsert(products=_page("2.40"))
    assert (again.variants_written, Variant.objects.get(cj_vid="P1-1").pending_since) == (0, held.pending_since)


@pytest.mark.django_db
def test_the_sync_applies_a_10_percent_change_as_before_and_clears_a_hold():
    products_upsert(products=_page("80.00"))
    products_upsert(products=_page("2.40"))  # held

    products_upsert(products=_page("88.00"))

    variant = Variant.objects.get(cj_vid="P1-1")
    assert (variant.supplier_cost, variant.price, variant.pending_supplier_cost, variant.pending_since) == (
        Decimal("88.00"),
        Decimal("177.90"),
        None,
        None,
    )


@pytest.mark.django_db(transaction=True)
def test_a_full_sync_against_the_simulator_holds_the_drop(cj_simulator):
    import_catalog(cj_simulator)
    variant = Variant.objects.order_by("pk").first()
    cost, price = variant.supplier_cost, variant.price
    new_cost = (cost * Decimal("0.03")).quantize(Decimal("0.01")) or Decimal("0.01")
    cj_simulator.set_price(variant.cj_vid, str(new_cost))

    run = products_sync(kind=SyncRun.Kind.INCREMENTAL)

    variant.refresh_from_db()
    assert (run.status, run.updated_count) == ("succeeded", 1)
    assert (variant.supplier_cost, variant.price, variant.pending_supplier_cost) == (cost, price, new_cost)


@pytest.mark.django_db
def test_a_variant_webhook_holds_a_97_percent_drop_and_applies_a_10_percent_change():
    held = VariantFactory(supplier_cost=Decimal("80.00"), price=Decimal("161.90"))
    moved = VariantFactory(supplier_cost=Decimal("80.00"), price=Decimal("161.90"))

    variant_update_from_cj(cj_vid=held.cj_vid, supplier_cost=Decimal("2.40"))
    variant_update_from_cj(cj_vid=moved.cj_vid, supplier_cost=Decimal("72.00"))

    held.refresh_from_db()
    moved.refresh_from_db()
    assert (held.supplier_cost, held.price, held.pending_supplier_cost) == (
        Decimal("80.00"),
        Decimal("161.90"),
        Decimal("2.40"),
    )
    assert held.pending_since is not None
    assert (moved.supplier_cost, moved.price, moved.pending_supplier_cost) == (
        Decimal("72.00"),
        Decimal("145.90"),
        None,
    )


@pytest.mark.django_db(transaction=True)
def test_a_variant_webhook_through_the_worker_holds_the_drop(client, run_worker, settings):
    settings.CJ_OPEN_ID = "1234567890"
    variant = VariantFactory(supplier_cost=Decimal("80.00"), price=Decimal("161.90"))

    post_signed(client, message("VARIANT", {"vid": variant.cj_vid, "variantSellPrice": 2.40}))
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}

    variant.refresh_from_db()
    assert WebhookEvent.objects.get().status == "processed"
    assert (variant.price, variant.pending_supplier_cost) == (Decimal("161.90"), Decimal("2.40"))


@pytest.mark.django_db
def test_staff_accept_or_keep_a_held_cost():
    accepted = VariantFactory(supplier_cost=Decimal("80.00"), price=Decimal("161.90"))
    kept = VariantFactory(supplier_cost=Decimal("80.00"), price=Decimal("161.90"))
    since = timezone.now()
    Variant.objects.filter(pk__in=[accepted.pk, kept.pk]).update(
        pending_supplier_cost=Decimal("2.40"), pending_since=since
    )

    variant_pending_cost_accept(variant_id=accepted.pk)
    variant_pending_cost_reject(variant_id=kept.pk)

    accepted.refresh_from_db()
    kept.refresh_from_db()
    assert (accepted.supplier_cost, accepted.price, accepted.pending_supplier_cost) == (
        Decimal("2.40"),
        Decimal("5.90"),
        None,
    )
    assert Product.objects.get(pk=accepted.product_id).min_price == Decimal("5.90")
    assert (kept.supplier_cost, kept.price, kept.pending_supplier_cost, kept.pending_since) == (
        Decimal("80.00"),
        Decimal("161.90"),
        None,
        None,
    )
    # decided already: nothing more to do
    assert variant_pending_cost_accept(variant_id=kept.pk) is None


def _staff(*codenames: str) -> Client:
    user = get_user_model().objects.create_user(username="buyer-ops", password="pw-ops-1", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_admin_lists_held_variants_and_its_actions_decide_them():
    # given
    held = VariantFactory(supplier_cost=Decimal("80.00"), price=Decimal("161.90"), cj_vid="V-HELD")
    VariantFactory(cj_vid="V-CALM")
    Variant.objects.filter(pk=held.pk).update(pending_supplier_cost=Decimal("2.40"), pending_since=timezone.now())
    client = _staff("view_variant", "change_variant")

    # when / then: the filter lists only the held one, with its change
    page = client.get(VARIANTS + "?held=yes").content.decode()
    assert re.findall(r"V-(?:HELD|CALM)", page) == ["V-HELD"]
    assert "-97 %" in page

    response = client.post(VARIANTS, {"action": "accept_new_cost", "_selected_action": [held.pk]})
    assert response.status_code == 302
    held.refresh_from_db()
    assert (held.supplier_cost, held.price, held.pending_supplier_cost) == (Decimal("2.40"), Decimal("5.90"), None)


@pytest.mark.django_db
def test_the_actions_need_the_change_permission():
    held = VariantFactory(supplier_cost=Decimal("80.00"), price=Decimal("161.90"))
    Variant.objects.filter(pk=held.pk).update(pending_supplier_cost=Decimal("2.40"), pending_since=timezone.now())
    client = _staff("view_variant")

    client.post(VARIANTS, {"action": "accept_new_cost", "_selected_action": [held.pk]})

    held.refresh_from_db()
    assert (held.supplier_cost, held.pending_supplier_cost) == (Decimal("80.00"), Decimal("2.40"))


@pytest.mark.django_db
def test_the_dashboard_shows_how_many_price_changes_are_held():
    for _ in range(2):
        held = VariantFactory()
        Variant.objects.filter(pk=held.pk).update(pending_supplier_cost=Decimal("1.00"), pending_since=timezone.now())
    VariantFactory()

    page = _staff("view_variant").get("/admin/").content.decode()

    assert "Price changes held for review" in page
    assert re.search(r'href="/admin/catalog/variant/\?held=yes"[^>]*>.*?2', page, re.S)
