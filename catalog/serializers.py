"""API shapes of the catalog: query validation and output."""

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Product, SyncRun, Variant
from catalog.selectors import CURSOR_NOT_VALID, ORDERINGS, InvalidCursor, cursor_decode

MAX_LIMIT = 100


class ProductListQuerySerializer(serializers.Serializer):
    category = serializers.IntegerField(required=False, min_value=1)
    q = serializers.CharField(required=False, max_length=100)
    in_stock = serializers.BooleanField(required=False)
    min_price = serializers.DecimalField(required=False, max_digits=12, decimal_places=2, min_value=Decimal("0"))
    max_price = serializers.DecimalField(required=False, max_digits=12, decimal_places=2, min_value=Decimal("0"))
    ordering = serializers.ChoiceField(required=False, choices=list(ORDERINGS), default="newest")
    # A cursor is opaque: one too long to be ours is "not valid", like any other we did not write.
    cursor = serializers.CharField(required=False, max_length=500, error_messages={"max_length": CURSOR_NOT_VALID})
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=20)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min_price": ["Must not be greater than max_price."]})
        if "cursor" in attrs:
            try:
                attrs["after"] = cursor_decode(ordering=attrs["ordering"], cursor=attrs["cursor"])
            except InvalidCursor as error:
                raise serializers.ValidationError({"cursor": [str(error)]}) from error
        return attrs


# What the list reads; `after` is derived from `cursor`.
LIST_QUERY_FIELDS = ("category", "q", "in_stock", "min_price", "max_price", "ordering", "cursor", "limit")


def product_list_query(validated: Mapping[str, Any]) -> dict[str, str]:
    """The list's validated parameters as text, by name, defaults applied and nothing else: the
    cache key and the `next` link are built from this, so unknown or repeated parameters, or
    another spelling of the same value (`limit=020`), never make another cache entry."""
    query = {}
    for name in LIST_QUERY_FIELDS:
        value = validated.get(name)
        if value is None:
            continue
        if isinstance(value, bool):
            query[name] = "true" if value else "false"
        elif isinstance(value, Decimal):
            query[name] = f"{value:f}"
        else:
            query[name] = str(value)
    return query


class ProductListItemSerializer(serializers.ModelSerializer):
    image = serializers.CharField(source="main_image", help_text="Absolute http(s) URL of the main image, or empty.")
    price_min = serializers.DecimalField(source="min_price", max_digits=12, decimal_places=2)
    price_max = serializers.DecimalField(source="max_price", max_digits=12, decimal_places=2)
    in_stock = serializers.BooleanField(source="is_in_stock")

    class Meta:
        model = Product
        fields = ("id", "cj_pid", "name", "image", "price_min", "price_max", "currency", "in_stock")


CENT = Decimal("0.01")


def product_list_items(products: list[Product]) -> list[dict[str, Any]]:
    """The list items, shaped exactly as ProductListItemSerializer (which documents them) shapes them.

    Built by hand: DRF's field-by-field serialisation of 50 items costs more than the query.
    """
    return [
        {
            "id": product.id,
            "cj_pid": product.cj_pid,
            "name": product.name,
            "image": product.main_image,
            "price_min": f"{product.min_price.quantize(CENT):f}",
            "price_max": f"{product.max_price.quantize(CENT):f}",
            "currency": product.currency,
            "in_stock": product.is_in_stock,
        }
        for product in products
    ]


class VariantOptionSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The option's name at CJ (productKeyEn), e.g. `Color`.")
    value = serializers.CharField(help_text="This variant's value (variantKey), e.g. `Black`.")


class VariantSerializer(serializers.ModelSerializer):
    options = VariantOptionSerializer(many=True, help_text="Named options, in CJ's order: one picker per name.")
    image = serializers.CharField(help_text="Absolute http(s) URL, or empty.")

    class Meta:
        model = Variant
        fields = ("id", "cj_vid", "sku", "name", "options", "image", "price", "currency", "stock")


class CategorySummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ProductDetailSerializer(serializers.ModelSerializer):
    images = serializers.ListField(child=serializers.URLField(), help_text="Absolute http(s) URLs, main image first.")
    category = CategorySummarySerializer(allow_null=True)
    price_min = serializers.DecimalField(source="min_price", max_digits=12, decimal_places=2)
    price_max = serializers.DecimalField(source="max_price", max_digits=12, decimal_places=2)
    in_stock = serializers.BooleanField(source="is_in_stock")
    variants = VariantSerializer(many=True)

    class Meta:
        model = Product
        fields = (
            "id",
            "cj_pid",
            "name",
            "description",
            "images",
            "category",
            "price_min",
            "price_max",
            "currency",
            "in_stock",
            "variants",
        )


@extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/CategoryNode"}})
class CategoryChildrenField(serializers.ListField):
    """The nested nodes (documented as a list of CategoryNode, the component it belongs to)."""


class CategoryNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True, help_text="For `GET /api/products?category=`; null for a grouping level CJ gives no id."
    )
    name = serializers.CharField()
    product_count = serializers.IntegerField(help_text="Listed products here and below.")
    children = CategoryChildrenField(child=serializers.DictField())


class CategoryTreeSerializer(serializers.Serializer):
    results = CategoryNodeSerializer(many=True)


class ProductSyncRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[SyncRun.Kind.FULL.value, SyncRun.Kind.INCREMENTAL.value], default=SyncRun.Kind.INCREMENTAL.value
    )


class CJStockQuerySerializer(serializers.Serializer):
    pid = serializers.RegexField(r"^[A-Za-z0-9_-]{1,64}$", max_length=64)


def plain(value: Any) -> Any:
    """A CJ dataclass as JSON-ready data: Decimals as strings (money is never a float)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
