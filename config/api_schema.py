"""The OpenAPI schema's error answers: one component (`Error`, the format of `config.api_errors`)
for every error status an operation can answer.

`ApiAutoSchema` (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) adds the answers every operation shares,
derived from the view itself, so a new endpoint is documented without a line of its own:

- 400 always (the request guard refuses a NUL in any query parameter; bodies and queries are
  validated), 503 always (PostgreSQL or Redis away);
- 401 when the view authenticates (a wrong `Authorization: Token` is refused even on a public
  endpoint), 403 when a permission other than AllowAny guards it, or for a session's unsafe
  request without its CSRF token;
- 404 when the path has parameters; 413 when the operation takes a body, and 415 when the view
  parses it; 429 when the view throttles.

Endpoint-specific answers (409, 422, ...) are declared beside the view with `error_responses`,
which also replaces a shared answer's description with a more precise one.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny

ERROR_COMPONENT = "Error"

SHARED_DESCRIPTIONS = {
    400: "Invalid query, body or header (`validation_error` with `details` per field, or `parse_error`).",
    401: "Authentication credentials were missing or wrong (`not_authenticated`, `authentication_failed`).",
    403: "Authenticated, but not allowed (`permission_denied`).",
    404: "No such resource (`not_found`).",
    413: "The request body is too large (`payload_too_large`).",
    415: "The body is not JSON (`unsupported_media_type`).",
    429: "Too many requests (`throttled`); `Retry-After` and `details.retry_after_seconds` say when to retry.",
    503: "A service the request needs (database, Redis, CJ) is unavailable (`service_unavailable`).",
}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine code, e.g. `validation_error`, `out_of_stock`.")
    message = serializers.CharField(help_text="A sentence for people.")
    details = serializers.DictField(
        child=serializers.JSONField(), help_text="Per field, a list of messages; or the error's own figures."
    )


class ErrorSerializer(serializers.Serializer):
    """The API's one error format, whatever the status."""

    error = ErrorDetailSerializer()
    request_id = serializers.CharField(allow_null=True, help_text="The request's `X-Request-ID`.")


def error_responses(answers: dict[int, str]) -> dict[int, OpenApiResponse]:
    """`extend_schema(responses=...)` entries for endpoint-specific errors, in the one format."""
    return {status: OpenApiResponse(ErrorSerializer, description=text) for status, text in answers.items()}


def _has_body(method: str) -> bool:
    return method.upper() in ("POST", "PUT", "PATCH")


class ApiAutoSchema(AutoSchema):
    def _shared_error_statuses(self, path: str, method: str) -> list[int]:
        view: Any = self.view
        statuses = [400, 503]
        authenticators = view.get_authenticators()
        if authenticators:
            statuses.append(401)
        guarded = any(not isinstance(permission, AllowAny) for permission in view.get_permissions())
        session = any(isinstance(authenticator, SessionAuthentication) for authenticator in authenticators)
        if guarded or (session and _has_body(method)):
            statuses.append(403)
        if "{" in path:
            statuses.append(404)
        if _has_body(method):
            statuses.append(413)
            if view.get_parsers():  # a view reading its raw body (CJ's webhooks) never answers 415
                statuses.append(415)
        if view.get_throttles():
            statuses.append(429)
        return statuses

    def get_operation(self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any) -> Any:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None or not path.startswith("/api/"):
            return operation
        error = self.resolve_serializer(ErrorSerializer, "response")
        content = {"application/json": {"schema": error.ref}}
        responses = operation.setdefault("responses", {})
        for status in self._shared_error_statuses(path, method):
            responses.setdefault(str(status), {"description": SHARED_DESCRIPTIONS[status], "content": content})
        operation["responses"] = dict(sorted(responses.items()))
        return operation


def response_fields_required(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS: every answer carries every field of its serializer, so each property
    of a response component is required (a field with a model default would otherwise read as
    optional: `status?` in a generated client). Request components (`...Request`, split by
    COMPONENT_SPLIT_REQUEST) keep their optional fields."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") or component.get("type") != "object" or "properties" not in component:
            continue
        component["required"] = sorted(component["properties"])
    return result
