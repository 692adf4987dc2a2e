"""Prometheus text at /metrics: django-prometheus (requests, latency, errors), cache hits and
misses per cache (config.cache), and django-rq's collector (jobs per queue and status, workers).

Not public. With METRICS_TOKEN set, every caller needs `Authorization: Bearer <token>`, loopback
included: behind a reverse proxy on the same host every visitor arrives from loopback. Without a
token the page is a development aid only: served to loopback callers while DEBUG is on, refused
(403) otherwise, and `check --deploy` warns that it is off.
"""

import hmac
import ipaddress
from typing import Any

import prometheus_client
from django.conf import settings
from django.core import checks
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


def _has_token(request: HttpRequest) -> bool:
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    return scheme == "Bearer" and hmac.compare_digest(supplied.strip().encode(), settings.METRICS_TOKEN.encode())


def _is_loopback(request: HttpRequest) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if settings.METRICS_TOKEN:
        if not _has_token(request):
            return JsonResponse(error_body("not_authenticated", "Metrics need a bearer token."), status=401)
    elif not (settings.DEBUG and _is_loopback(request)):
        return JsonResponse(error_body("permission_denied", "Metrics are off: METRICS_TOKEN is not set."), status=403)
    _register_rq_collector()
    return HttpResponse(
        prometheus_client.generate_latest(prometheus_client.REGISTRY),
        content_type=prometheus_client.CONTENT_TYPE_LATEST,
    )


@checks.register(checks.Tags.security, deploy=True)
def metrics_token_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`check --deploy`: without METRICS_TOKEN, /metrics answers 403 in production."""
    if settings.DEBUG or settings.METRICS_TOKEN:
        return []
    return [
        checks.Warning(
            "METRICS_TOKEN is not set, so /metrics is off (403) in production.",
            hint="Set METRICS_TOKEN to a long random value and give it to the Prometheus scraper as a bearer token.",
            id="config.W001",
        )
    ]
