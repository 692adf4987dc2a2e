"""Catalog API: the public product list and detail (cached), and staff-only sync and CJ lookups."""

from typing import Any
from urllib.parse import urlencode

import redis
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.cache import cached_list_get, cached_list_set, detail_key, list_key, products_cache
from catalog.cj_lookups import cj_product_get, cj_stock_get
from catalog.jobs import products_sync_enqueue
from catalog.models import Product, SyncRun
from catalog.selectors import ProductFilters, category_tree, cursor_encode, product_get, product_list
from catalog.serializers import (
    CategoryTreeSerializer,
    CJStockQuerySerializer,
    ProductDetailSerializer,
    ProductListItemSerializer,
    ProductListQuerySerializer,
    ProductSyncRequestSerializer,
    product_list_items,
    product_list_query,
)
from config.api_errors import ServiceUnavailable
from config.api_schema import error_responses
from config.permissions import staff_permission


def _json(data: Any) -> bytes:
    return JSONRenderer().render(data)


def _json_response(body: bytes) -> HttpResponse:
    # Cached responses are stored rendered: a hit costs one Redis read and no serialisation.
    return HttpResponse(body, content_type="application/json")


class ProductListView(APIView):
    """GET /api/products: active products, keyset-paginated (`next` link), cached for 1 h."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="products_list",
        parameters=[ProductListQuerySerializer],
        responses=inline_serializer(
            "ProductPage",
            {
                "next": serializers.URLField(allow_null=True, help_text="The next page, absolute; null on the last."),
                "results": ProductListItemSerializer(many=True),
            },
        ),
    )
    def get(self, request: Request) -> HttpResponse:
        query = ProductListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        known = product_list_query(params)
        key = list_key(known, host=request.get_host())
        body, version = cached_list_get(key)
        if body is None:
            body = _json(self._page(request, params, known))
            cached_list_set(key, body, version=version)
        return _json_response(body)

    def _page(self, request: Request, params: dict[str, Any], known: dict[str, str]) -> dict[str, Any]:
        filters = ProductFilters(
            category=params.get("category"),
            q=params.get("q"),
            in_stock=params.get("in_stock"),
            min_price=params.get("min_price"),
            max_price=params.get("max_price"),
        )
        limit = params["limit"]
        products = product_list(filters=filters, ordering=params["ordering"], after=params.get("after"), limit=limit)
        next_url = None
        if len(products) > limit:
            products = products[:limit]
            # From the known parameters only: entries are shared by every spelling of one query.
            next_query = {**known, "cursor": cursor_encode(ordering=params["ordering"], product=products[-1])}
            next_url = request.build_absolute_uri(f"{request.path}?{urlencode(next_query)}")
        return {"next": next_url, "results": product_list_items(products)}


class ProductDetailView(APIView):
    """GET /api/products/{product_id}: an active product with images, description and variants; cached for 1 h."""

    permission_classes = [AllowAny]

    @extend_schema(operation_id="products_detail", responses=ProductDetailSerializer)
    def get(self, request: Request, product_id: int) -> HttpResponse:
        key = detail_key(product_id)
        body = products_cache().get(key)
        if body is None:
            try:
                product = product_get(product_id=product_id)
            except Product.DoesNotExist as error:
                raise NotFound("No such product.") from error
            body = _json(ProductDetailSerializer(product).data)
            products_cache().set(key, body)
        return _json_response(body)


CATEGORIES_KEY = "categories"


class CategoryListView(APIView):
    """GET /api/categories: the tree of categories with listed products, with counts; cached for
    1 h like the product lists and dropped with them when a product a list shows changes."""

    permission_classes = [AllowAny]

    @extend_schema(operation_id="categories_list", responses=CategoryTreeSerializer)
    def get(self, request: Request) -> HttpResponse:
        body, version = cached_list_get(CATEGORIES_KEY)
        if body is None:
            body = _json({"results": category_tree()})
            cached_list_set(CATEGORIES_KEY, body, version=version)
        return _json_response(body)


class ProductSyncView(APIView):
    """POST /api/products/sync (staff with `catalog.start_sync`, as the admin's Sync buttons): enqueue
    a products sync; 202 with the job id and its status URL."""

    permission_classes = staff_permission("catalog.start_sync")

    @extend_schema(
        request=ProductSyncRequestSerializer,
        responses={
            202: inline_serializer(
                "JobAccepted", {"job_id": serializers.CharField(), "status_url": serializers.URLField()}
            )
        },
    )
    def post(self, request: Request) -> Response:
        body = ProductSyncRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            job = products_sync_enqueue(kind=body.validated_data["kind"], trigger=SyncRun.Trigger.API)
        except redis.RedisError as error:
            raise ServiceUnavailable("The job queue is unavailable; try again shortly.") from error
        status_url = request.build_absolute_uri(reverse("job-status", kwargs={"job_id": job.id}))
        return Response({"job_id": job.id, "status_url": status_url}, status=status.HTTP_202_ACCEPTED)


class CJProductView(APIView):
    """GET /api/cj/product/{cj_pid} (staff with `catalog.start_sync`: spends CJ quota like a sync): the
    live CJ product, cached for 1 h."""

    permission_classes = staff_permission("catalog.start_sync")

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, cj_pid: str) -> Response:
        return Response(cj_product_get(pid=cj_pid))


class CJStockView(APIView):
    """GET /api/cj/stock?pid= (staff with `catalog.start_sync`: spends CJ quota like a sync): live CJ
    stock per variant and warehouse."""

    permission_classes = staff_permission("catalog.start_sync")

    @extend_schema(
        parameters=[CJStockQuerySerializer],
        responses={200: OpenApiTypes.OBJECT, **error_responses({404: "CJ does not know this pid (`not_found`)."})},
    )
    def get(self, request: Request) -> Response:
        query = CJStockQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        return Response(cj_stock_get(pid=query.validated_data["pid"]))
