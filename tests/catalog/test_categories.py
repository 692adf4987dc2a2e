"""GET /api/categories: the tree of CJ's category paths with counts of listed products, cached
like the product lists and dropped with them."""

import pytest

from catalog.models import Product
from catalog.services import product_deactivate
from tests.catalog.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/categories"


def _catalog() -> dict:
    spoons = CategoryFactory(name="Home & Garden / Kitchen Tools / Measuring Tools")
    peelers = CategoryFactory(name="Home & Garden / Kitchen Tools / Peelers")
    lamps = CategoryFactory(name="Home & Garden / Lighting / Lamps")
    toys = CategoryFactory(name="Toys")  # a name without a path (listV2's threeCategoryName)
    empty = CategoryFactory(name="Home & Garden / Lighting / Bulbs")
    for category, count in ((spoons, 2), (peelers, 1), (lamps, 1), (toys, 1)):
        ProductFactory.create_batch(count, category=category)
    ProductFactory(category=empty, status=Product.Status.INACTIVE)  # not listed: not counted
    ProductFactory.create_batch(2, category=lamps, is_published=False)  # drafts: not counted either
    ProductFactory(category=None)  # no category: in no node
    return {"spoons": spoons, "peelers": peelers, "lamps": lamps, "toys": toys}


def test_tree_with_counts_of_listed_products(api_client):
    ids = {name: category.pk for name, category in _catalog().items()}

    response = api_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "id": None,
                "name": "Home & Garden",
                "product_count": 4,
                "children": [
                    {
                        "id": None,
                        "name": "Kitchen Tools",
                        "product_count": 3,
                        "children": [
                            {"id": ids["spoons"], "name": "Measuring Tools", "product_count": 2, "children": []},
                            {"id": ids["peelers"], "name": "Peelers", "product_count": 1, "children": []},
                        ],
                    },
                    {
                        "id": None,
                        "name": "Lighting",
                        "product_count": 1,
                        "children": [{"id": ids["lamps"], "name": "Lamps", "product_count": 1, "children": []}],
                    },
                ],
            },
            {"id": ids["toys"], "name": "Toys", "product_count": 1, "children": []},
        ]
    }


def test_a_leaf_id_filters_the_product_list(api_client):
    spoons = _catalog()["spoons"]

    listed = api_client.get(f"/api/products?category={spoons.pk}").json()["results"]

    assert sorted(item["id"] for item in listed) == sorted(spoons.products.values_list("id", flat=True))


def test_one_query_on_a_miss_and_none_on_a_hit(api_client, django_assert_num_queries):
    _catalog()
    with django_assert_num_queries(1):
        first = api_client.get(URL)
    with django_assert_num_queries(0):
        second = api_client.get(URL)

    assert second.content == first.content


def test_query_count_does_not_grow_with_categories(api_client, django_assert_num_queries):
    for index in range(30):
        ProductFactory(category=CategoryFactory(name=f"Group {index % 3} / Leaf {index}"))

    with django_assert_num_queries(1):
        body = api_client.get(URL).json()

    assert [(node["name"], node["product_count"], len(node["children"])) for node in body["results"]] == [
        ("Group 0", 10, 10),
        ("Group 1", 10, 10),
        ("Group 2", 10, 10),
    ]


def test_a_product_change_drops_the_cached_tree(api_client, django_capture_on_commit_callbacks):
    toys = _catalog()["toys"]
    assert api_client.get(URL).json()["results"][-1]["name"] == "Toys"

    with django_capture_on_commit_callbacks(execute=True):
        product_deactivate(cj_pid=toys.products.get().cj_pid)

    assert [node["name"] for node in api_client.get(URL).json()["results"]] == ["Home & Garden"]


def test_empty_catalog_is_an_empty_tree(api_client):
    assert api_client.get(URL).json() == {"results": []}
