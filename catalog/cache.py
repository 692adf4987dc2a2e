"""Catalog caches and their invalidation.

- `caches["products"]` (1 h) holds API responses. List responses are keyed by a version token
  (`list-version`); any product change replaces the token, so every cached list is abandoned at
  once. Detail responses are keyed by product id and deleted one by one.
- `caches["prices"]` (30 min) holds variant prices, deleted per variant when a price changes.

A Redis error reads as a miss (IGNORE_EXCEPTIONS), so a cache outage never breaks a page.

A list is keyed on its validated parameters only (`catalog.serializers.product_list_query`:
known names, defaults applied), never on the raw query string, so a stranger adding `?foo=1`,
`?foo=2`… reads the same entry instead of filling the cache that also holds sessions.

Where the plain path ends: the list cache is a performance path. Its plain equivalent is Django's
per-view cache (`cache_page`) or `cache.get` / `cache.set` of the serialized data after the query
is validated. Instead a list is stored as the rendered body (a hit needs no serialisation) and read
with its version in one MGET; justified by `bench/products_api.py` (cached list against a minimal
view; history in bench/NOTES.md).
"""

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.cache import caches

from config.cache import cache_requests

LIST_VERSION_KEY = "list-version"


def products_cache() -> Any:
    return caches["products"]


def prices_cache() -> Any:
    return caches["prices"]


def list_key(query: Mapping[str, str], *, host: str) -> str:
    """The cache key of one list response: its validated parameters (sorted) and the host, which
    the `next` link names."""
    digest = hashlib.sha1(json.dumps([host, sorted(query.items())]).encode()).hexdigest()  # noqa: S324
    return f"list:{digest}"


def cached_list_get(key: str) -> tuple[bytes | None, str]:
    """A cached list body and the current list version, in one Redis round trip (MGET).

    The body is None when absent or stored under an older version (a product changed since).
    Pass the version to `cached_list_set`, so a change made while the page was being built
    leaves the new entry stale instead of serving old data.
    """
    found = products_cache().get_many([LIST_VERSION_KEY, key])
    version = found.get(LIST_VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        products_cache().add(LIST_VERSION_KEY, version, None)
        cache_requests.labels("products", "miss").inc()
        return None, version
    entry = found.get(key)
    if entry is not None and entry[0] == version:
        cache_requests.labels("products", "hit").inc()
        return entry[1], version
    cache_requests.labels("products", "miss").inc()
    return None, version


def cached_list_set(key: str, body: bytes, *, version: str) -> None:
    products_cache().set(key, (version, body))


def detail_key(product_id: int) -> str:
    return f"detail:{product_id}"


def price_key(variant_id: int) -> str:
    return f"variant:{variant_id}"


def catalog_cache_invalidate(
    *, product_ids: Iterable[int] = (), variant_ids: Iterable[int] = (), lists: bool = True
) -> None:
    """Forget cached responses of these products (and every list, unless `lists` is False: the
    change shows only on the detail page) and cached prices of these variants.

    Call after the change is committed; a Redis error is ignored (the entries expire anyway).
    """
    product_ids = list(product_ids)
    variant_ids = list(variant_ids)
    if product_ids:
        if lists:
            products_cache().set(LIST_VERSION_KEY, uuid.uuid4().hex, None)
        products_cache().delete_many([detail_key(product_id) for product_id in product_ids])
    if variant_ids:
        prices_cache().delete_many([price_key(variant_id) for variant_id in variant_ids])


def cached_prices_get(variant_ids: Iterable[int]) -> dict[int, Decimal]:
    keys = {price_key(variant_id): variant_id for variant_id in variant_ids}
    found = prices_cache().get_many(list(keys))
    return {keys[key]: Decimal(value) for key, value in found.items()}


def cached_prices_set(prices: Mapping[int, Decimal]) -> None:
    prices_cache().set_many({price_key(variant_id): str(price) for variant_id, price in prices.items()})
