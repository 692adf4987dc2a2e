"""Request id and the one access-log line per request."""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.client_address import client_address
from config.request_context import request_id_from_header, set_request_id

http_logger = logging.getLogger("http")
performance_logger = logging.getLogger("performance")


class RequestLogMiddleware:
    """Accept or create `X-Request-ID`, echo it, and log `http.request` once per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from_header(request.headers.get("X-Request-ID"))
        set_request_id(request_id)
        # Our own attribute, for views and handlers that want the id without the context variable.
        request.request_id = request_id  # type: ignore[attr-defined]  # HttpRequest declares no such field
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        response["X-Request-ID"] = request_id

        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        fields = {
            "method": request.method,
            "path": request.path,
            "route": match.route if match else None,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "client": client_address(request),
            "user_id": user.pk if user is not None and user.is_authenticated else None,
        }
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        http_logger.log(level, "http.request", extra=fields)
        if duration_ms > settings.SLOW_REQUEST_MS:
            performance_logger.warning("performance.slow_request", extra=fields)
        set_request_id("")
        return response
