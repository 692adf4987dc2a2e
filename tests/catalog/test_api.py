"""The storefront catalog API: list, detail, caching, bad input, and staff-only endpoints."""

import contextlib
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.cache import LIST_VERSION_KEY, products_cache
from catalog.curation import products_publish
from catalog.models import Product
from catalog.selectors import storefront_products
from catalog.services import products_aggregates_refresh, variant_update_from_cj
from catalog.stock import variant_stock_set
from catalog.sync.upsert import products_upsert
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory, cj_product, cj_variant


@pytest.fixture
def staff_user(staff_user):
    """Staff who may start a sync and look CJ up live (both need `catalog.start_sync`)."""
    staff_user.user_permissions.add(Permission.objects.get(content_type__app_label="catalog", codename="start_sync"))
    return staff_user


pytestmark = pytest.mark.django_db


def _products(count: int, **kwargs) -> list:
    products = []
    for _ in range(count):
        variant = VariantFactory(**kwargs)
        products.append(variant.product)
    products_aggregates_refresh(product_ids=[product.pk for product in products])
    return products


def _published(result):
    """Synced products are drafts until published (the storefront shows published ones only)."""
    Product.objects.filter(pk__in=result.product_ids.values()).update(is_published=True)
    return result


def test_list_item_shape(api_client):
    _published(products_upsert(products=[cj_product(pid="P1")]))

    response = api_client.get("/api/products")

    assert response.status_code == 200
    product = response.json()["results"][0]
    assert response.json() == {
        "results": [
            {
                "id": product["id"],
                "cj_pid": "P1",
                "name": "CJ product P1",
                "image": "https://img.example.test/P1-a.jpg",
                "price_min": "9.90",
                "price_max": "13.90",
                "currency": "USD",
                "in_stock": True,
            }
        ],
        "next": None,
    }


def test_detail_shape(api_client):
    _published(products_upsert(products=[cj_product(pid="P1")]))
    list_item = api_client.get("/api/products").json()["results"][0]

    response = api_client.get(f"/api/products/{list_item['id']}")

    assert response.status_code == 200
    body = response.json()
    variants = body.pop("variants")
    category = body.pop("category")
    assert category == {"id": category["id"], "name": "Category CAT-1"}
    assert body == {
        "id": list_item["id"],
        "cj_pid": "P1",
        "name": "CJ product P1",
        "description": "<p>About P1</p>",
        "images": ["https://img.example.test/P1-a.jpg", "https://img.example.test/P1-b.jpg"],
        "price_min": "9.90",
        "price_max": "13.90",
        "currency": "USD",
        "in_stock": True,
    }
    assert [(v["cj_vid"], v["sku"], v["options"], v["price"], v["stock"]) for v in variants] == [
        ("P1-1", "SKU-P1-1", [{"name": "Color", "value": "Black"}, {"name": "Size", "value": "M"}], "9.90", 10),
        ("P1-2", "SKU-P1-2", [{"name": "Color", "value": "Black"}, {"name": "Size", "value": "M"}], "13.90", 10),
    ]


def test_keyset_pages_walk_the_whole_list_without_overlap(api_client):
    products = _products(7)

    seen, url, pages = [], "/api/products?limit=3&ordering=price", 0
    while url:
        body = api_client.get(url).json()
        seen += [item["id"] for item in body["results"]]
        url, pages = body["next"], pages + 1

    # All factory variants cost the same: ties are broken by id.
    assert seen == sorted(product.pk for product in products)
    assert pages == 3


def test_newest_first_is_the_default_ordering(api_client):
    products = _products(3)

    ids = [item["id"] for item in api_client.get("/api/products").json()["results"]]

    assert ids == [product.pk for product in reversed(products)]


def test_filters(api_client):
    shoes = CategoryFactory(name="Shoes")
    cheap = VariantFactory(product__category=shoes, product__name="Red runner", price=Decimal("5.90"), stock=0)
    dear = VariantFactory(product__category=shoes, price=Decimal("50.90"), sku="FIND-ME")
    other = VariantFactory(price=Decimal("20.90"))
    products_aggregates_refresh(product_ids=[cheap.product_id, dear.product_id, other.product_id])

    def ids(query: str) -> set[int]:
        response = api_client.get(f"/api/products?{query}")
        assert response.status_code == 200, response.json()
        return {item["id"] for item in response.json()["results"]}

    assert ids(f"category={shoes.pk}") == {cheap.product_id, dear.product_id}
    assert ids("in_stock=false") == {cheap.product_id}
    assert ids("in_stock=true") == {dear.product_id, other.product_id}
    assert ids("min_price=10&max_price=30") == {other.product_id}
    assert ids("q=runner") == {cheap.product_id}
    assert ids("q=find-me") == {dear.product_id}
    assert ids(f"q={other.product.cj_pid}") == {other.product_id}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("category=abc", "category"),
        ("in_stock=maybe", "in_stock"),
        ("min_price=-1", "min_price"),
        ("max_price=cheap", "max_price"),
        ("min_price=10&max_price=5", "min_price"),
        ("ordering=random", "ordering"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=not-a-cursor", "cursor"),
    ],
)
def test_bad_filters_are_400_in_the_error_format(api_client, query, field):
    response = api_client.get(f"/api/products?{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "validation_error"
    assert list(body["error"]["details"]) == [field]


def test_unknown_product_is_404(api_client):
    response = api_client.get("/api/products/999999")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_list_query_count_is_the_same_for_10_and_50_items(api_client, django_assert_num_queries):
    _products(50)

    with django_assert_num_queries(1):
        assert len(api_client.get("/api/products?limit=10").json()["results"]) == 10
    with django_assert_num_queries(1):
        assert len(api_client.get("/api/products?limit=50").json()["results"]) == 50


def test_cache_hits_make_no_sql_query(api_client, django_assert_num_queries):
    product = _products(3)[0]
    first_list = api_client.get("/api/products").json()
    first_detail = api_client.get(f"/api/products/{product.pk}").json()

    with django_assert_num_queries(0):
        assert api_client.get("/api/products").json() == first_list
        assert api_client.get(f"/api/products/{product.pk}").json() == first_detail


def test_a_price_change_invalidates_list_and_detail(api_client, django_capture_on_commit_callbacks):
    _published(products_upsert(products=[cj_product(pid="P1")]))
    product_id = api_client.get("/api/products").json()["results"][0]["id"]
    assert api_client.get(f"/api/products/{product_id}").json()["price_min"] == "9.90"

    with django_capture_on_commit_callbacks(execute=True):
        products_upsert(
            products=[
                cj_product(
                    pid="P1",
                    variants=(
                        cj_variant(vid="P1-1", pid="P1", price="3.00"),
                        cj_variant(vid="P1-2", pid="P1", price="6.00"),
                    ),
                )
            ]
        )

    assert api_client.get("/api/products").json()["results"][0]["price_min"] == "7.90"
    assert api_client.get(f"/api/products/{product_id}").json()["variants"][0]["price"] == "7.90"


def test_webhook_services_invalidate_the_cache(api_client, django_capture_on_commit_callbacks):
    variant = VariantFactory(stock=4)
    products_aggregates_refresh(product_ids=[variant.product_id])
    url = f"/api/products/{variant.product_id}"
    assert api_client.get(url).json()["variants"][0]["stock"] == 4

    with django_capture_on_commit_callbacks(execute=True):
        variant_stock_set(cj_vid=variant.cj_vid, stock=9)
    assert api_client.get(url).json()["variants"][0]["stock"] == 9

    with django_capture_on_commit_callbacks(execute=True):
        variant_update_from_cj(cj_vid=variant.cj_vid, is_on_sale=False)
    assert api_client.get(url).json()["variants"] == []
    assert api_client.get("/api/products").json()["results"][0]["in_stock"] is False


def test_a_stock_change_keeps_cached_lists_unless_the_in_stock_flag_flips(
    api_client, django_capture_on_commit_callbacks
):
    variant = VariantFactory(stock=4)
    products_aggregates_refresh(product_ids=[variant.product_id])
    product = Product.objects.get(pk=variant.product_id)
    assert api_client.get("/api/products").json()["results"][0]["in_stock"] is True
    version = products_cache().get(LIST_VERSION_KEY)

    # 4 -> 9: only the detail shows it; the product row and the cached lists stay as they are
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        variant_stock_set(cj_vid=variant.cj_vid, stock=9)
    assert products_cache().get(LIST_VERSION_KEY) == version
    assert not [query["sql"] for query in queries.captured_queries if "catalog_product" in query["sql"]]
    assert api_client.get(f"/api/products/{product.pk}").json()["variants"][0]["stock"] == 9

    # 9 -> 0: out of stock, which the list shows
    with django_capture_on_commit_callbacks(execute=True):
        variant_stock_set(cj_vid=variant.cj_vid, stock=0)
    assert products_cache().get(LIST_VERSION_KEY) != version
    assert api_client.get("/api/products").json()["results"][0]["in_stock"] is False


def test_cache_outage_degrades_to_the_database(api_client, settings):
    products = _products(2)
    settings.CACHES = {
        **settings.CACHES,
        "products": {**settings.CACHES["products"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    # The settings override rebuilds the cache handler; drop this thread's connection too.
    with contextlib.suppress(AttributeError, KeyError):
        del caches["products"]

    response = api_client.get("/api/products")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [p.pk for p in reversed(products)]


def test_inactive_products_are_not_served(api_client):
    product = ProductFactory(status="inactive")

    assert api_client.get("/api/products").json()["results"] == []
    assert api_client.get(f"/api/products/{product.pk}").status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/products/sync"),
        ("get", "/api/cj/product/P1"),
        ("get", "/api/cj/stock?pid=P1"),
        ("get", "/api/jobs/abc"),
    ],
)
def test_staff_only_endpoints_refuse_anonymous_and_customers(api_client, django_user_model, method, url):
    anonymous = getattr(api_client, method)(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"

    api_client.force_authenticate(django_user_model.objects.create_user(username="buyer", password="pw-buyer-1"))
    customer = getattr(api_client, method)(url)
    assert customer.status_code == 403
    assert customer.json()["error"]["code"] == "permission_denied"


def test_cj_stock_needs_a_valid_pid(staff_client):
    response = staff_client.get("/api/cj/stock?pid=bad%20pid")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["pid"]


@pytest.mark.django_db
def test_list_items_built_by_hand_match_the_documented_serializer():
    """The list view builds its items without DRF for speed; they must stay what the schema says."""
    from catalog.models import Product
    from catalog.serializers import ProductListItemSerializer, product_list_items

    ProductFactory(min_price=Decimal("1234.5"), max_price=Decimal("1234.50"), is_in_stock=False)
    ProductFactory(images=[], min_price=Decimal("0"), max_price=Decimal("10"))
    products = list(Product.objects.order_by("pk"))

    assert product_list_items(products) == ProductListItemSerializer(products, many=True).data


# --- staff lookups of CJ's live data ------------------------------------------------------------


def test_cj_product_lookup_answers_cjs_product_and_caches_it(staff_client, cj_simulator):
    pid = cj_simulator.info()["sample_pid"]

    first = staff_client.get(f"/api/cj/product/{pid}")
    again = staff_client.get(f"/api/cj/product/{pid}")

    assert first.status_code == 200
    assert first.json()["pid"] == pid
    assert again.json() == first.json()
    assert cj_simulator.calls("product/query") == 1


def test_cj_lookups_of_an_unknown_pid_are_404(staff_client, cj_simulator):
    expected = {"code": "not_found", "message": "CJ has no product with this pid.", "details": {}}

    product = staff_client.get("/api/cj/product/NO-SUCH-PID")
    stock = staff_client.get("/api/cj/stock?pid=NO-SUCH-PID")

    assert (product.status_code, product.json()["error"]) == (404, expected)
    assert (stock.status_code, stock.json()["error"]) == (404, expected)


def test_cj_lookups_while_cj_does_not_answer_are_503(staff_client, cj_simulator):
    pid = cj_simulator.info()["sample_pid"]
    cj_simulator.fault("http_5xx", status=502)
    expected = {"code": "service_unavailable", "message": "CJ did not answer the lookup; try again shortly.",
                "details": {}}  # fmt: skip

    product = staff_client.get(f"/api/cj/product/{pid}")
    stock = staff_client.get(f"/api/cj/stock?pid={pid}")

    assert (product.status_code, product.json()["error"]) == (503, expected)
    assert (stock.status_code, stock.json()["error"]) == (503, expected)


def test_cj_stock_lookup_sums_each_variant_over_its_warehouses(staff_client, cj_simulator):
    pid = cj_simulator.info()["sample_pid"]

    response = staff_client.get(f"/api/cj/stock?pid={pid}")

    assert response.status_code == 200
    body = response.json()
    assert body["pid"] == pid
    assert body["variants"]
    for variant in body["variants"]:
        assert set(variant) == {"vid", "total", "warehouses"}
        assert variant["total"] == sum(row["total"] for row in variant["warehouses"])


def _list_entries() -> list[bytes]:
    """The list responses stored in the cache Redis database (keys `products:<version>:list:…`)."""
    return products_cache().client.get_client().keys("products:*:list:*")


def test_unknown_parameters_and_spellings_of_one_query_share_one_cache_entry(api_client):
    _products(3)
    first = api_client.get("/api/products").json()

    for query in ("?foo=1", "?foo=2&bar=x", "?limit=20", "?limit=020&ordering=newest", "?utm_source=a&limit=20"):
        response = api_client.get(f"/api/products{query}")
        assert response.status_code == 200
        assert response.json() == first

    assert len(_list_entries()) == 1
    # another real query is another entry
    api_client.get("/api/products?limit=2")
    assert len(_list_entries()) == 2


def test_the_next_link_carries_only_the_known_parameters(api_client):
    _products(3)

    body = api_client.get("/api/products?limit=2&foo=<script>&ordering=price").json()

    assert body["next"].startswith("http://testserver/api/products?ordering=price&limit=2&cursor=")
    assert "foo" not in body["next"]
    assert len(api_client.get(body["next"]).json()["results"]) == 1


def test_an_invalid_query_is_refused_before_the_cache_is_read(api_client):
    _products(1)
    api_client.get("/api/products")

    response = api_client.get("/api/products?limit=0")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert len(_list_entries()) == 1


def test_drafts_are_invisible_to_the_storefront_until_published(api_client, django_capture_on_commit_callbacks):
    published = ProductFactory(name="Published lamp")
    draft = ProductFactory(name="Draft lamp", is_published=False, category=published.category)
    VariantFactory(product=draft)

    listed = api_client.get("/api/products").json()["results"]
    assert [item["id"] for item in listed] == [published.pk]
    assert api_client.get(f"/api/products/{draft.pk}").status_code == 404
    assert api_client.get("/api/products", {"q": draft.cj_pid}).json()["results"] == []
    assert list(storefront_products().filter(category=published.category)) == [published]

    with django_capture_on_commit_callbacks(execute=True):
        assert products_publish(product_ids=[draft.pk], published=True) == 1

    assert [item["id"] for item in api_client.get("/api/products").json()["results"]] == [draft.pk, published.pk]
    assert api_client.get(f"/api/products/{draft.pk}").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert products_publish(product_ids=[draft.pk, published.pk], published=False) == 2
    assert api_client.get("/api/products").json()["results"] == []
