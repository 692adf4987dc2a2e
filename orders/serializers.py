"""Order API shapes. Prices never come from the client: unknown fields (a `price`) are ignored."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import Order, OrderItem
from orders.timeline import buyer_timeline


class LineSerializer(serializers.Serializer):
    variant_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=99)


def _validate_lines(lines: list[dict]) -> list[dict]:
    ids = [line["variant_id"] for line in lines]
    if len(ids) != len(set(ids)):
        raise serializers.ValidationError("Each variant may appear once; raise its quantity instead.")
    return lines


class QuoteRequestSerializer(serializers.Serializer):
    country_code = serializers.RegexField(r"^[A-Za-z]{2}$", error_messages={"invalid": "Two letters (ISO 3166-1)."})
    zip = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    # DRF (3.15+) passes max_length on to the ListSerializer of many=True; the stubs' __init__ lacks it.
    items = LineSerializer(many=True, allow_empty=False, max_length=20)  # type: ignore[call-arg]

    def validate_country_code(self, value: str) -> str:
        return value.upper()

    def validate_items(self, value: list[dict]) -> list[dict]:
        return _validate_lines(value)


class FreightOptionSerializer(serializers.Serializer):
    logistic_name = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, source="total_price")
    currency = serializers.CharField(default="USD")
    delivery_days = serializers.CharField()


class AddressSerializer(serializers.Serializer):
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=50)
    province = serializers.CharField(max_length=50)
    zip = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    country_code = serializers.RegexField(r"^[A-Za-z]{2}$", error_messages={"invalid": "Two letters (ISO 3166-1)."})

    def validate_country_code(self, value: str) -> str:
        return value.upper()


class OrderCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=50)
    name = serializers.CharField(max_length=50)
    phone = serializers.RegexField(r"^\+?[0-9 ()-]{6,20}$", required=False, allow_blank=True, default="", max_length=20)
    shipping_address = AddressSerializer()
    # DRF (3.15+) passes max_length on to the ListSerializer of many=True; the stubs' __init__ lacks it.
    items = LineSerializer(many=True, allow_empty=False, max_length=20)  # type: ignore[call-arg]
    logistic_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")

    def validate_items(self, value: list[dict]) -> list[dict]:
        return _validate_lines(value)


class OrderAcceptedSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    access_token = serializers.CharField(help_text="Send it as `X-Order-Token` to read the order.")
    status_url = serializers.URLField(help_text="Absolute URL of the order (`GET /api/orders/{order_number}`).")


class OrderItemOptionSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField()


class OrderItemSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="variant.sku")
    name = serializers.CharField(source="variant.product.name")
    options = OrderItemOptionSerializer(source="variant.options", many=True)

    class Meta:
        model = OrderItem
        fields = ("variant_id", "sku", "name", "options", "quantity", "unit_price")


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    status = serializers.CharField()
    message = serializers.CharField(help_text="A sentence for the buyer (orders/timeline.py).")


class TrackingSerializer(serializers.Serializer):
    number = serializers.CharField(allow_null=True)
    url = serializers.URLField(allow_null=True)


class OrderDetailSerializer(serializers.ModelSerializer):
    items = OrderItemSerializer(many=True)
    timeline = serializers.SerializerMethodField()
    tracking = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = (
            "number",
            "status",
            "created_at",
            "currency",
            "items",
            "items_total",
            "shipping_total",
            "total",
            "logistic_name",
            "tracking",
            "timeline",
        )

    @extend_schema_field(TimelineEntrySerializer(many=True))
    def get_timeline(self, order: Order) -> Any:
        return TimelineEntrySerializer(buyer_timeline(order, list(order.events.all())), many=True).data

    @extend_schema_field(TrackingSerializer)
    def get_tracking(self, order: Order) -> dict[str, str | None]:
        return {"number": order.tracking_number or None, "url": order.tracking_url or None}
