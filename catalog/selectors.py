"""Catalog reads: the storefront list (keyset pagination, no COUNT), product detail, prices."""

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from catalog.cache import cached_prices_get, cached_prices_set
from catalog.models import Category, Product, Variant

# ordering name -> (model field, descending?)
ORDERINGS: dict[str, tuple[str, bool]] = {
    "newest": ("id", True),
    "price": ("min_price", False),
    "-price": ("min_price", True),
    "name": ("name", False),
    "-name": ("name", True),
}


# Bounds of what a cursor may carry: Postgres bigint ids; Product.min_price is numeric(12, 2).
MAX_BIGINT = 2**63 - 1
PRICE_BOUND = Decimal(10) ** 10
CENT = Decimal("0.01")


CURSOR_NOT_VALID = "The cursor is not valid."


class InvalidCursor(ValueError):
    """The cursor was not made by this API for this ordering."""


@dataclass(frozen=True)
class ProductFilters:
    category: int | None = None
    q: str | None = None
    in_stock: bool | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None


def cursor_encode(*, ordering: str, product: Product) -> str:
    field, _ = ORDERINGS[ordering]
    value = getattr(product, field)
    raw = json.dumps([ordering, str(value), product.pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(*, ordering: str, cursor: str) -> tuple[Any, int]:
    """The (sort value, id) a cursor points after; raises InvalidCursor.

    A cursor comes back from the client, so it is checked to be one `cursor_encode` could have
    written: a price PostgreSQL's column can hold (not NaN, Infinity or 1e999999, which fail in
    the query), a name without NUL or unpaired surrogates, an id within bigint.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_ordering, value, last_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, RecursionError) as error:
        raise InvalidCursor(CURSOR_NOT_VALID) from error
    if cursor_ordering != ordering or not isinstance(value, str) or not _is_id(last_id):
        raise InvalidCursor("The cursor does not belong to this ordering.")
    field, _ = ORDERINGS[ordering]
    if field == "id":
        return last_id, last_id
    if field == "min_price":
        return _cursor_price(value), last_id
    if not _is_storable_text(value):
        raise InvalidCursor(CURSOR_NOT_VALID)
    return value, last_id


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_BIGINT


def _cursor_price(value: str) -> Decimal:
    try:
        price = Decimal(value)
        if price.is_finite() and abs(price) < PRICE_BOUND and price == price.quantize(CENT):
            return price
    except ArithmeticError as error:
        raise InvalidCursor(CURSOR_NOT_VALID) from error
    raise InvalidCursor(CURSOR_NOT_VALID)


def _is_storable_text(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storefront_products() -> QuerySet[Product]:
    """The products the storefront sees and sells: active at CJ and published by staff.

    The one definition for the product list and detail, category counts and order intake; drafts
    (imported, not yet published) and inactive products are left out.
    """
    return Product.objects.filter(status=Product.Status.ACTIVE, is_published=True)


def product_is_sellable(product: Product) -> bool:
    """The same test as `storefront_products` on a loaded row (order intake)."""
    return product.status == Product.Status.ACTIVE and product.is_published


def product_list(
    *, filters: ProductFilters, ordering: str = "newest", after: tuple[Any, int] | None = None, limit: int = 20
) -> list[Product]:
    """Active products matching the filters, `limit` + 1 of them (the extra one says a next page exists).

    Keyset pagination: `after` is the (sort value, id) of the last product of the previous page.
    One query, no COUNT: unlike DRF's page-number pagination, the plain equivalent, a page costs the
    same at any catalog size (bench/products_api.py compares 100,000 products with 1,000).
    """
    field, descending = ORDERINGS[ordering]
    queryset: QuerySet[Product] = storefront_products()
    if filters.category is not None:
        queryset = queryset.filter(category_id=filters.category)
    if filters.in_stock is not None:
        queryset = queryset.filter(is_in_stock=filters.in_stock)
    if filters.min_price is not None:
        queryset = queryset.filter(min_price__gte=filters.min_price)
    if filters.max_price is not None:
        queryset = queryset.filter(min_price__lte=filters.max_price)
    if filters.q:
        variant_sku = Variant.objects.filter(product_id=OuterRef("pk"), sku__iexact=filters.q)
        queryset = queryset.filter(
            Q(name__icontains=filters.q) | Q(sku__iexact=filters.q) | Q(cj_pid=filters.q) | Exists(variant_sku)
        )
    if after is not None:
        value, last_id = after
        if field == "id":
            queryset = queryset.filter(id__lt=last_id) if descending else queryset.filter(id__gt=last_id)
        elif descending:
            queryset = queryset.filter(**{f"{field}__lte": value}).filter(
                Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": last_id})
            )
        else:
            queryset = queryset.filter(**{f"{field}__gte": value}).filter(
                Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": last_id})
            )
    order = [f"-{field}", "-id"] if descending else [field, "id"]
    if field == "id":
        order = order[:1]
    return list(
        queryset.order_by(*order).only(
            "id", "cj_pid", "name", "images", "min_price", "max_price", "currency", "is_in_stock"
        )[: limit + 1]
    )


def product_get(*, product_id: int) -> Product:
    """A storefront product with its category and active variants; raises Product.DoesNotExist."""
    variants = Prefetch(
        "variants", queryset=Variant.objects.filter(status=Variant.Status.ACTIVE).order_by("price", "id")
    )
    return storefront_products().select_related("category").prefetch_related(variants).get(pk=product_id)


def variant_prices_get(*, variant_ids: Iterable[int]) -> dict[int, Decimal]:
    """Our current price of these variants, from the prices cache (30 min) or the database.

    Unknown ids are absent from the result. For display; orders re-read the row under lock.
    """
    wanted = set(variant_ids)
    prices = cached_prices_get(wanted)
    missing = wanted - prices.keys()
    if missing:
        found = dict(Variant.objects.filter(pk__in=missing).values_list("pk", "price"))
        cached_prices_set(found)
        prices.update(found)
    return prices


def catalog_is_empty() -> bool:
    """True when no product has been synced yet."""
    return not Product.objects.exists()


# CJ names a category by its path, "Home & Garden / Kitchen Tools / Measuring Tools"; only the
# last level has a CJ id (product/getCategory).
CATEGORY_PATH_SEPARATOR = " / "


def category_tree() -> list[dict[str, Any]]:
    """The categories that hold listed products (active and published: `storefront_products`), as a tree of
    `{"id", "name", "product_count", "children"}` built from their path names: a grouping level
    has `id` None, and every node counts the listed products below it. One query.
    """
    rows = (
        Category.objects.annotate(
            product_count=Count(
                "products", filter=Q(products__status=Product.Status.ACTIVE, products__is_published=True)
            )
        )
        .filter(product_count__gt=0)
        .order_by("name", "id")
        .values_list("id", "name", "product_count")
    )
    roots: list[dict[str, Any]] = []
    for category_id, name, count in rows:
        parts = [part.strip() for part in name.split(CATEGORY_PATH_SEPARATOR) if part.strip()] or [name]
        siblings, node = roots, None
        for depth, part in enumerate(parts):
            is_leaf = depth == len(parts) - 1
            node = next(
                (n for n in siblings if n["name"] == part and not (is_leaf and n["id"] is not None)),
                None,
            )
            if node is None:
                node = {"id": None, "name": part, "product_count": 0, "children": []}
                siblings.append(node)
            node["product_count"] += count
            siblings = node["children"]
        if node is not None:
            node["id"] = category_id
    _tree_sort(roots)
    return roots


def _tree_sort(nodes: list[dict[str, Any]]) -> None:
    nodes.sort(key=lambda node: (node["name"].casefold(), node["id"] or 0))
    for node in nodes:
        _tree_sort(node["children"])
