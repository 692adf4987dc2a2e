"""Prometheus text at /metrics: django-prometheus (requests, latency, errors), cache hits and
misses per cache (config.cache), and django-rq's collector (jobs per queue and status, workers).

Not public: with METRICS_TOKEN set, callers need `Authorization: Bearer <token>`; without it,
only loopback addresses are served.
"""

import hmac
import ipaddress

import prometheus_client
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from django_rq.contrib.prometheus import RQCollector

from config.api_errors import error_body

_rq_collector_registered = False


def _register_rq_collector() -> None:
    global _rq_collector_registered
    if not _rq_collector_registered:
        prometheus_client.REGISTRY.register(RQCollector())
        _rq_collector_registered = True


def _is_authorised(request: HttpRequest) -> bool:
    if settings.METRICS_TOKEN:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(supplied.encode(), settings.METRICS_TOKEN.encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _is_authorised(request):
        return JsonResponse(error_body("not_authenticated", "Metrics need a bearer token."), status=401)
    _register_rq_collector()
    return HttpResponse(
        prometheus_client.generate_latest(prometheus_client.REGISTRY),
        content_type=prometheus_client.CONTENT_TYPE_LATEST,
    )
