"""CRM API: the storefront's public lead form, and staff reads of leads and customers.

The lead form answers every accepted submission alike, so it never tells whether an email is known.

Staff endpoints need a staff user (session or `Authorization: Token …`) holding the model's
permission (`view_*` to read, `add_*` to create): the "Sales" group has them.
"""

import logging
from typing import Any

import django_filters.rest_framework
from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, BasePermission, DjangoModelPermissions, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from config.api_errors import PayloadTooLarge
from config.api_schema import error_responses
from crm import selectors, services
from crm.models import Customer, Lead
from crm.serializers import (
    CustomerCreateSerializer,
    CustomerSerializer,
    LeadCaptureResultSerializer,
    LeadCaptureSerializer,
    LeadDetailSerializer,
    LeadSerializer,
)

security_logger = logging.getLogger("security")

# A lead form is a few hundred bytes; anything much larger is not a person typing.
LEAD_MAX_BODY_BYTES = 16 * 1024
# The one answer to an accepted submission, new email or known.
LEAD_RECEIVED = {"status": "received"}


class CrmPagination(CursorPagination):
    """The API's one list convention (as `GET /api/products`): `{"next", "results"}`, `next` an
    absolute URL carrying an opaque `cursor`, `limit` per page. No COUNT, stable under inserts."""

    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request: Request) -> Any:
        # As the product list: a cursor we did not write is the caller's mistake, 400 on `cursor`
        # (DRF answers 404).
        try:
            return super().decode_cursor(request)
        except NotFound as error:
            raise ValidationError({"cursor": ["The cursor is not valid."]}) from error

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }


class CrmModelPermissions(DjangoModelPermissions):
    """Model permissions that also guard reads (`view_<model>` for GET)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


STAFF_PERMISSIONS: list[type[BasePermission]] = [IsAdminUser, CrmModelPermissions]


class LeadCaptureThrottle(SimpleRateThrottle):
    """Per client address, whoever is logged in; rate from `CRM_LEAD_THROTTLE_RATE`."""

    scope = "crm_lead_capture"

    def get_rate(self) -> str:
        return settings.CRM_LEAD_THROTTLE_RATE

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LeadFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Lead.Status.choices)
    source = django_filters.MultipleChoiceFilter(choices=Lead.Source.choices)
    owner = django_filters.NumberFilter(field_name="owner_id", label="Owner (user id)")
    unassigned = django_filters.BooleanFilter(field_name="owner", lookup_expr="isnull", label="Without owner")
    created = django_filters.DateFromToRangeFilter(field_name="created_at", label="Created between (dates)")

    class Meta:
        model = Lead
        fields = ("status", "source", "owner", "unassigned", "created")


class CustomerFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(method="filter_email", label="Email (exact, normalised)")

    class Meta:
        model = Customer
        fields = ("email",)

    def filter_email(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return queryset.filter(email=selectors.email_normalise(value))


@extend_schema_view(
    get=extend_schema(
        summary="List leads (staff)",
        responses=LeadSerializer(many=True),
        parameters=[OpenApiParameter("search", OpenApiTypes.STR, description="Name, email, phone or company.")],
    ),
    post=extend_schema(
        summary="Submit a lead (public storefront form)",
        description=(
            'Every accepted submission is answered 202 `{"status": "received"}`, whether its email is '
            "new or known, so the answer never tells whether an email is known. A new email starts a "
            "lead; a repeat of an open lead's email changes nothing and is recorded on that lead as "
            "proposed changes for staff to review. "
            "Throttled per client address (`CRM_LEAD_THROTTLE_RATE`); body at most 16 KiB."
        ),
        request=LeadCaptureSerializer,
        responses={
            202: LeadCaptureResultSerializer,
            **error_responses({413: "The body is over 16 KiB (`payload_too_large`)."}),
        },
        auth=[],
    ),
)
class LeadListCaptureView(generics.ListAPIView):
    """GET: staff list of leads (filters, search, ordering, pages). POST: the public lead form."""

    queryset = Lead.objects.none()
    serializer_class = LeadSerializer
    pagination_class = CrmPagination
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter]
    filterset_class = LeadFilter
    search_fields = ("name", "email", "phone", "company")
    # Cursor pages need a non-null sort key: `last_contacted_at` (often empty) is not offered.
    ordering_fields = ("created_at", "status", "name")
    ordering = ("-created_at", "-id")

    def get_queryset(self) -> QuerySet[Lead]:
        return selectors.lead_list()

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [AllowAny()]
        return [permission() for permission in STAFF_PERMISSIONS]

    def get_throttles(self) -> list[BaseThrottle]:
        if self.request.method == "POST":
            return [LeadCaptureThrottle()]
        return super().get_throttles()

    def post(self, request: Request) -> Response:
        if len(request.body) > LEAD_MAX_BODY_BYTES:
            raise PayloadTooLarge(f"A lead submission is limited to {LEAD_MAX_BODY_BYTES} bytes.")
        serializer = LeadCaptureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.pop("website", ""):
            # Bots fill the hidden field: answer as if stored, store nothing.
            security_logger.warning("crm.lead.honeypot", extra={"client": self.throttle_ident(request)})
            return self._received()
        data["has_marketing_consent"] = data.pop("marketing_consent")
        # Whether the lead was created stays here: anyone may post any email.
        services.lead_capture(source=Lead.Source.WEB_FORM, **data)
        return self._received()

    @staticmethod
    def _received() -> Response:
        return Response(dict(LEAD_RECEIVED), status=status.HTTP_202_ACCEPTED)

    def throttle_ident(self, request: Request) -> str:
        return LeadCaptureThrottle().get_ident(request)


@extend_schema(summary="One lead with its contact and status history (staff)")
class LeadDetailView(generics.RetrieveAPIView):
    serializer_class = LeadDetailSerializer
    queryset = Lead.objects.none()
    permission_classes = STAFF_PERMISSIONS
    lookup_url_kwarg = "lead_id"

    def get_queryset(self) -> QuerySet[Lead]:
        return selectors.lead_list().prefetch_related("contacts__staff_user", "status_changes__changed_by")


@extend_schema_view(
    get=extend_schema(summary="List customers, e.g. `?email=` (staff)"),
    post=extend_schema(
        summary="Create a customer, or fill the empty fields of the one with that email (staff)",
        request=CustomerCreateSerializer,
        responses={201: CustomerSerializer, 200: CustomerSerializer},
    ),
)
class CustomerListCreateView(generics.ListAPIView):
    """GET: customers (filter `email`, normalised). POST: create, 201, or the existing customer, 200."""

    queryset = Customer.objects.none()
    serializer_class = CustomerSerializer
    pagination_class = CrmPagination
    filterset_class = CustomerFilter
    permission_classes = STAFF_PERMISSIONS

    def get_queryset(self) -> QuerySet[Customer]:
        return selectors.customer_list()

    def post(self, request: Request) -> Response:
        serializer = CustomerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer, created = services.customer_register(**serializer.to_service_kwargs())
        return Response(
            CustomerSerializer(customer).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


@extend_schema(summary="One customer (staff)")
class CustomerDetailView(generics.RetrieveAPIView):
    serializer_class = CustomerSerializer
    queryset = Customer.objects.none()
    permission_classes = STAFF_PERMISSIONS
    lookup_url_kwarg = "customer_id"

    def get_queryset(self) -> QuerySet[Customer]:
        return selectors.customer_list()
