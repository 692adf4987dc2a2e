"""The one JSON error format of the API:

    {"error": {"code": "<machine code>", "message": "<human sentence>", "details": {...}},
     "request_id": "<id>"}

Used by DRF's exception handler for every API view, and by the JSON 404/500 handlers for
anything under /api/ that never reached a view.
"""

import logging
from typing import Any

import redis
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from config.domain_errors import VALIDATION_MESSAGE, DomainError
from config.request_context import current_request_id

logger = logging.getLogger(__name__)


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service this request needs is unavailable; try again shortly."
    default_code = "service_unavailable"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": message, "details": details or {}},
        "request_id": current_request_id() or None,
    }


def _validation_details(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return detail
    return {"non_field_errors": detail if isinstance(detail, list) else [detail]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF EXCEPTION_HANDLER: every error, expected or not, in the one format."""
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, (SuspiciousOperation, BadRequest)):
        # Django's own "bad request" errors raised inside a view (a malformed upload, too many
        # fields, a disallowed redirect): the caller's fault, so 400, never a 500.
        logger.warning("api.bad_request", extra={"error": type(exc).__name__})
        exc = exceptions.ParseError("The request is malformed.")
    elif isinstance(exc, (DatabaseOperationalError, DatabaseInterfaceError)):
        logger.error("api.database_unavailable", extra={"error": str(exc)[:300]})
        exc = ServiceUnavailable("The database is unavailable; try again shortly.")
    elif isinstance(exc, redis.RedisError):
        logger.error("api.redis_unavailable", extra={"error": str(exc)[:300]})
        exc = ServiceUnavailable("A service this request needs is unavailable; try again shortly.")

    if not isinstance(exc, exceptions.APIException):
        logger.exception("api.unhandled_exception", extra={"view": type(context.get("view")).__name__})
        set_rollback()
        return Response(
            error_body("server_error", "An unexpected error occurred; it has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    headers: dict[str, str] = {}
    # DRF's APIView sets `auth_header` on the exception when the view's authenticator has one.
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    details: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        code, message = "validation_error", VALIDATION_MESSAGE
        details = _validation_details(exc.detail)
    else:
        code, message = exc.default_code, str(exc.detail)
        if isinstance(exc.detail, dict):
            details = exc.detail
            message = str(exc.default_detail)
    if isinstance(exc, exceptions.Throttled):
        wait: int | None = exc.wait  # type: ignore[attr-defined]  # DRF sets it in __init__; the stubs omit it
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
            details = {"retry_after_seconds": int(wait)}
    set_rollback()
    return Response(error_body(code, message, details), status=exc.status_code, headers=headers)


def _json_error(status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Catch-all for unknown /api/ paths (also in debug, where handler404 is not used)."""
    return _json_error(404, "not_found", "Not found.")


def handler404(request: HttpRequest, exception: Exception) -> Any:
    if request.path.startswith("/api/"):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler400(request: HttpRequest, exception: Exception) -> Any:
    """Django's 400 (e.g. a Host header not in ALLOWED_HOSTS): JSON under /api/, HTML elsewhere."""
    if request.path.startswith("/api/"):
        return _json_error(400, "bad_request", "The request is malformed or its Host is not served here.")
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler500(request: HttpRequest) -> Any:
    if request.path.startswith("/api/"):
        return _json_error(500, "server_error", "An unexpected error occurred; it has been logged.")
    from django.views.defaults import server_error

    return server_error(request)
