"""Keyset cursors of the product list come back from the client: any cursor the API did not
write is 400 on `cursor`, whatever it holds; the ones it writes work in every ordering."""

import base64
import json

import pytest
import redis
from django.conf import settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from catalog.services import products_aggregates_refresh
from tests.catalog.factories import VariantFactory

pytestmark = pytest.mark.django_db


def _products(count: int) -> None:
    variants = [VariantFactory() for _ in range(count)]
    products_aggregates_refresh(product_ids=[variant.product_id for variant in variants])


def _cursor(ordering, value, last_id=1) -> str:
    raw = json.dumps([ordering, value, last_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


NOT_VALID, NOT_THIS_ORDERING = "The cursor is not valid.", "The cursor does not belong to this ordering."


@pytest.mark.parametrize(
    ("ordering", "cursor", "message"),
    [
        ("price", _cursor("price", "NaN"), NOT_VALID),
        ("price", _cursor("price", "sNaN"), NOT_VALID),
        ("price", _cursor("price", "Infinity"), NOT_VALID),
        ("-price", _cursor("-price", "-Infinity"), NOT_VALID),
        ("price", _cursor("price", "1e999999"), NOT_VALID),
        ("price", _cursor("price", "1e-999999"), NOT_VALID),
        ("-price", _cursor("-price", "99999999999.00"), NOT_VALID),
        ("price", _cursor("price", "cheap"), NOT_VALID),
        ("name", _cursor("name", "a\x00b"), NOT_VALID),
        ("-name", _cursor("-name", "\ud800"), NOT_VALID),
        ("price", base64.urlsafe_b64encode(b'["price", NaN, 1]').decode(), NOT_THIS_ORDERING),
        ("newest", _cursor("newest", "1", 2**63), NOT_THIS_ORDERING),
        ("newest", _cursor("newest", "1", True), NOT_THIS_ORDERING),
        ("newest", _cursor("newest", "1", 1e300), NOT_THIS_ORDERING),
        ("newest", base64.urlsafe_b64encode(b"[" * 300).decode(), NOT_VALID),
        ("newest", base64.urlsafe_b64encode(b"\x00\xff").decode(), NOT_VALID),
    ],
)
def test_a_cursor_the_api_never_wrote_is_400(api_client, ordering, cursor, message):
    _products(2)

    response = api_client.get(f"/api/products?ordering={ordering}&cursor={cursor}")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "The request has invalid fields; see details.",
        "details": {"cursor": [message]},
    }


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)
_numbers = st.sampled_from(["NaN", "-Infinity", "sNaN", "1e999999", "1e-999999", "9" * 40, "\x00", "\ud800"])


@hypothesis_settings(max_examples=60, deadline=None, database=None)
@given(
    ordering=st.sampled_from(["newest", "price", "-price", "name", "-name"]),
    value=_numbers | st.decimals().map(str) | st.text(max_size=20) | _json_values,
    last_id=st.integers() | _json_values,
)
def test_any_cursor_in_any_ordering_is_answered_200_or_400(ordering, value, last_id):
    # The anonymous throttle would answer 429 within the run: each example starts afresh.
    redis.Redis.from_url(settings.REDIS_CACHE_URL).flushdb()
    client = APIClient()
    cursor = _cursor(ordering, value, last_id)

    response = client.get(f"/api/products?ordering={ordering}&cursor={cursor}")

    assert response.status_code in (200, 400), (ordering, value, last_id, response.content[:300])
    if response.status_code == 400:
        assert response.json()["error"]["details"] in ({"cursor": [NOT_VALID]}, {"cursor": [NOT_THIS_ORDERING]})


@pytest.mark.parametrize("ordering", ["newest", "price", "-price", "name", "-name"])
def test_the_cursors_the_api_writes_are_accepted_in_every_ordering(api_client, ordering):
    _products(3)

    first = api_client.get(f"/api/products?limit=2&ordering={ordering}").json()
    second = api_client.get(first["next"])

    assert second.status_code == 200
    assert len(first["results"]) + len(second.json()["results"]) == 3
