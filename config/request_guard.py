"""Refuse, before any view runs, request paths and query strings no view could ever use.

PostgreSQL's text type cannot hold the NUL character: a lookup carrying one raises DataError, a
500, wherever a path segment or a query value reaches a query (orders by number, admin filters,
search boxes). Checking once here covers every route, present and future, instead of every URL
converter, filter and selector. A path with NUL names nothing: 404. A query value with NUL is bad
input: 400. A query string with more parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS is also 400
(Django raises TooManyFieldsSent on first access, which the API's handler would answer as 500).
A cookie holding NUL (a quoted cookie may spell it `\\000`) is dropped, as if never sent: the
session cookie reaches the database on every page, and a client stuck with a bad cookie would
otherwise get an error everywhere until it cleared it.

Under /api/ the answers use the API's one error format; elsewhere Django's own 404 and 400 pages.
"""

import logging
from collections.abc import Callable

from django.core.exceptions import BadRequest, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from config.api_errors import api_not_found, error_body
from config.client_address import client_address
from config.domain_errors import VALIDATION_MESSAGE

security_logger = logging.getLogger("security")

NUL = "\x00"
NUL_MESSAGE = "Null characters are not allowed."


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _query_names_with_nul(request: HttpRequest) -> list[str]:
    """Names of the query parameters whose name or any value holds NUL (NUL dropped from the name,
    so the error can show it); raises TooManyFieldsSent for an oversized query string."""
    return [
        name.replace(NUL, "")
        for name, values in request.GET.lists()
        if NUL in name or any(NUL in value for value in values)
    ]


class UnstorableInputMiddleware:
    """404 for a path holding NUL, 400 for a query string holding NUL or too many parameters;
    cookies holding NUL are dropped."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path_info:
            security_logger.info("security.request.nul", extra={"where": "path", "client": client_address(request)})
            if _is_api(request):
                return api_not_found(request)
            raise Http404("No such page.")
        try:
            names = _query_names_with_nul(request)
        except TooManyFieldsSent:
            if not _is_api(request):
                raise
            return JsonResponse(error_body("parse_error", "The query string has too many parameters."), status=400)
        if names:
            security_logger.info("security.request.nul", extra={"where": "query", "client": client_address(request)})
            if _is_api(request):
                details = {name: [NUL_MESSAGE] for name in names}
                return JsonResponse(
                    error_body("validation_error", VALIDATION_MESSAGE, details),
                    status=400,
                )
            raise BadRequest(NUL_MESSAGE)
        if any(NUL in name or NUL in value for name, value in request.COOKIES.items()):
            security_logger.info("security.request.nul", extra={"where": "cookie", "client": client_address(request)})
            request.COOKIES = {
                name: value for name, value in request.COOKIES.items() if NUL not in name and NUL not in value
            }
        return self.get_response(request)
