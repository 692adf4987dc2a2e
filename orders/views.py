"""Order API: shipping quotes, order intake (202, idempotent), and reading an order."""

import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from config.api_errors import Conflict, ServiceUnavailable
from integrations.cj.errors import CJError, CJPermanentError
from integrations.cj.types import FreightOption
from orders import selectors, services
from orders.freight import QuoteUnavailable, freight_quote
from orders.serializers import (
    FreightOptionSerializer,
    OrderAcceptedSerializer,
    OrderCreateSerializer,
    OrderDetailSerializer,
    QuoteRequestSerializer,
)

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


class OutOfStock(Conflict):
    default_detail = "Not enough stock for one or more items; see details."
    default_code = "out_of_stock"


class IdempotencyKeyInFlight(Conflict):
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."
    default_code = "idempotency_key_in_flight"


class IdempotencyKeyMismatch(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_key_mismatch"


def _quote(country_code: str, zip_code: str, items: list[dict]) -> tuple[FreightOption, ...]:
    """Validate the lines and quote them; CJ's answers become 400 or 503 in the error format."""
    variants, errors = selectors.variants_for_order_lines([item["variant_id"] for item in items])
    if errors:
        raise exceptions.ValidationError({"items": errors})
    lines = [(variants[item["variant_id"]], item["quantity"]) for item in items]
    try:
        return freight_quote(country_code=country_code, zip=zip_code, lines=lines)
    except QuoteUnavailable:
        raise exceptions.ValidationError({"country_code": ["No shipping option to this destination."]}) from None
    except CJPermanentError as error:
        raise exceptions.ValidationError({"country_code": [f"CJ cannot ship there: {error.message}"]}) from None
    except CJError:
        raise ServiceUnavailable("Shipping quotes are unavailable right now; try again shortly.") from None


class ShippingQuoteView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "quotes"

    @extend_schema(request=QuoteRequestSerializer, responses=FreightOptionSerializer(many=True))
    def post(self, request: Request) -> Response:
        serializer = QuoteRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        options = _quote(data["country_code"], data["zip"], data["items"])
        return Response({"options": FreightOptionSerializer(options, many=True).data})


class OrderCreateView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "orders"

    @extend_schema(
        request=OrderCreateSerializer,
        responses={202: OrderAcceptedSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and not IDEMPOTENCY_KEY.match(key):
            raise exceptions.ValidationError({"Idempotency-Key": ["8 to 100 characters: letters, digits, _.:-"]})
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        body_hash = services.request_hash(data)
        if key is not None:
            existing = selectors.order_get_by_idempotency_key(key=key)
            if existing is not None:
                if existing.request_hash != body_hash:
                    raise IdempotencyKeyMismatch()
                return self._accepted(existing)

        address = data["shipping_address"]
        options = _quote(address["country_code"], address["zip"], data["items"])
        option = self._chosen_option(options, data["logistic_name"])
        try:
            order, _created = services.order_place(
                email=data["email"],
                name=data["name"],
                phone=data["phone"],
                address=services.ShippingAddress(**address),
                lines=[services.OrderLineInput(**item) for item in data["items"]],
                logistic_name=option.logistic_name,
                shipping_total=option.total_price,
                idempotency_key=key,
                body_hash=body_hash,
            )
        except services.IdempotencyConflict as conflict:
            if conflict.kind == "mismatch":
                raise IdempotencyKeyMismatch() from None
            raise IdempotencyKeyInFlight() from None
        except services.OrderRejected as rejected:
            if rejected.code == "out_of_stock":
                raise OutOfStock({"items": rejected.field_errors["items"]}) from None
            raise exceptions.ValidationError(rejected.field_errors) from None
        return self._accepted(order)

    @staticmethod
    def _chosen_option(options: tuple[FreightOption, ...], logistic_name: str) -> FreightOption:
        if not logistic_name:
            return options[0]
        for option in options:
            if option.logistic_name == logistic_name:
                return option
        names = ", ".join(option.logistic_name for option in options)
        raise exceptions.ValidationError({"logistic_name": [f"Not one of the quoted options: {names}."]})

    @staticmethod
    def _accepted(order: Any) -> Response:
        body = {
            "number": order.number,
            "status": order.status,
            "access_token": order.access_token,
            "status_url": f"/api/orders/{order.number}",
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


class OrderDetailView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "orders_read"

    @extend_schema(
        responses=OrderDetailSerializer,
        parameters=[OpenApiParameter("X-Order-Token", str, OpenApiParameter.HEADER, required=False)],
    )
    def get(self, request: Request, number: str) -> Response:
        order = selectors.order_get_for_reader(
            number=number,
            access_token=request.headers.get("X-Order-Token"),
            is_staff=bool(request.user and request.user.is_staff),
        )
        if order is None:
            raise exceptions.NotFound("No order with this number, or the order token is missing or wrong.")
        return Response(OrderDetailSerializer(order).data)
