"""Order API: shipping quotes, order intake (202, idempotent), and reading an order."""

import re

from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from config.api_schema import error_responses
from orders import selectors
from orders.intake import freight_quote_for_lines, order_intake
from orders.serializers import (
    FreightOptionSerializer,
    OrderAcceptedSerializer,
    OrderCreateSerializer,
    OrderDetailSerializer,
    QuoteRequestSerializer,
)
from orders.services import OrderLineInput, ShippingAddress, request_hash

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


class ShippingQuoteView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "quotes"

    @extend_schema(
        request=QuoteRequestSerializer,
        responses={
            200: inline_serializer("ShippingQuote", {"options": FreightOptionSerializer(many=True)}),
            **error_responses(
                {
                    400: "Invalid body, an unknown or inactive variant, or CJ cannot ship there (`validation_error`).",
                    503: "CJ's freight calculation is unavailable (`service_unavailable`); try again shortly.",
                }
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = QuoteRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        options = freight_quote_for_lines(
            country_code=data["country_code"],
            zip=data["zip"],
            lines=[OrderLineInput(**item) for item in data["items"]],
        )
        return Response({"options": FreightOptionSerializer(options, many=True).data})


# The answer carries the order's access token and the buyer's details: no cache may keep it.
@method_decorator(never_cache, name="dispatch")
class OrderCreateView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "orders"

    @extend_schema(
        request=OrderCreateSerializer,
        responses={
            202: OrderAcceptedSerializer,
            **error_responses(
                {
                    400: "Invalid body or `Idempotency-Key`, an unknown or inactive variant, a `logistic_name` "
                    "not among the quoted options (`validation_error`).",
                    409: "A line is short of stock (`out_of_stock`), or the first request with this "
                    "`Idempotency-Key` is still running (`idempotency_key_in_flight`).",
                    422: "This `Idempotency-Key` was used with another body (`idempotency_key_mismatch`).",
                }
            ),
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="8-100 characters (letters, digits, `_.:-`): the same key and body get the first answer.",
            )
        ],
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and not IDEMPOTENCY_KEY.match(key):
            raise exceptions.ValidationError({"Idempotency-Key": ["8 to 100 characters: letters, digits, _.:-"]})
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = order_intake(
            email=data["email"],
            name=data["name"],
            phone=data["phone"],
            address=ShippingAddress(**data["shipping_address"]),
            lines=[OrderLineInput(**item) for item in data["items"]],
            logistic_name=data["logistic_name"],
            idempotency_key=key,
            body_hash=request_hash(data),
        )
        body = {
            "number": order.number,
            "status": order.status,
            "access_token": order.access_token,
            "status_url": request.build_absolute_uri(reverse("orders:detail", kwargs={"order_number": order.number})),
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


@method_decorator(never_cache, name="dispatch")
class OrderDetailView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "orders_read"

    @extend_schema(
        responses={
            200: OrderDetailSerializer,
            **error_responses({404: "No such order, or `X-Order-Token` is missing or wrong (`not_found`)."}),
        },
        parameters=[
            OpenApiParameter(
                "X-Order-Token",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="The order's `access_token` (staff need none).",
            )
        ],
    )
    def get(self, request: Request, order_number: str) -> Response:
        order = selectors.order_get_for_reader(
            number=order_number,
            access_token=request.headers.get("X-Order-Token"),
            is_staff=request.user.is_staff,
        )
        if order is None:
            raise exceptions.NotFound("No order with this number, or the order token is missing or wrong.")
        return Response(OrderDetailSerializer(order).data)
