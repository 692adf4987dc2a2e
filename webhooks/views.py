"""`POST /api/webhooks/cj`: CJ's pushes. Verify, store, acknowledge; processing happens later.

CJ wants HTTP 200 within 3 seconds and pauses every push once half of them fail, so the view
does only what an answer needs: a size check, the signature over the raw body, one INSERT, and
the enqueue after commit. No session authentication (no CSRF), no throttle: CJ's bursts are
legitimate and the signature check is cheaper than a throttle lookup.

Only verified posts count in the pause guard's answers; a post refused before its signature was
verified is logged on `security` and counted apart (`cj_webhook_rejected_total{reason}`).
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import PayloadTooLarge, ServiceUnavailable
from config.api_schema import error_responses
from integrations.cj.client import get_client
from webhooks import answers
from webhooks.messages import SIGNATURE_HEADER, headers_to_store, message_parse, signature_is_valid
from webhooks.services import webhook_event_store

security_logger = logging.getLogger("security")
logger = logging.getLogger(__name__)

ACK = {"code": 200, "result": "success", "message": "ok"}
ACK_DUPLICATE = {"code": 200, "result": "success", "message": "duplicate"}


class InvalidSignature(exceptions.APIException):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "The webhook signature is missing or wrong."
    default_code = "invalid_signature"


def signature_matches(*, body: bytes, signature: str | None) -> bool | None:
    """Whether `sign` fits the body under the account's openId; None when no openId is known.

    CJ_OPEN_ID is tried first (no Redis on the hot path), then the stored token's openId; the
    token store is only read, so a webhook never triggers a CJ login."""
    configured = settings.CJ_OPEN_ID
    if configured and signature_is_valid(body=body, signature=signature, keys=[configured]):
        return True
    stored = get_client().open_id
    if stored and stored != configured:
        return signature_is_valid(body=body, signature=signature, keys=[stored])
    return False if configured or stored else None


def _client_address(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class _Rejected(Exception):
    """A post refused before its signature was verified: `reason` labels the rejection counter."""

    def __init__(self, reason: str, answer: exceptions.APIException) -> None:
        super().__init__(reason)
        self.reason = reason
        self.answer = answer

    def log(self, request: Request) -> None:
        client = _client_address(request)
        if self.reason in ("missing_signature", "bad_signature"):
            # The event name and reasons the README documents for signature failures.
            reason = "missing" if self.reason == "missing_signature" else "wrong"
            security_logger.warning("security.webhook.bad_signature", extra={"client": client, "reason": reason})
        else:
            security_logger.warning("security.webhook.rejected", extra={"client": client, "reason": self.reason})


def _raw_body(request: Request) -> bytes:
    """The body, refused (as _Rejected) when its length is not a number or over the limit."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as error:
        raise _Rejected("bad_content_length", exceptions.ParseError("Content-Length is not a number.")) from error
    if declared > settings.WEBHOOKS_MAX_BODY_BYTES:
        raise _Rejected("too_large", PayloadTooLarge())
    try:
        body = request.body
    except RequestDataTooBig as error:
        raise _Rejected("too_large", PayloadTooLarge()) from error
    if len(body) > settings.WEBHOOKS_MAX_BODY_BYTES:
        raise _Rejected("too_large", PayloadTooLarge())
    return body


def _verified_body(request: Request) -> bytes:
    """The body of a post whose signature fits; raises _Rejected otherwise."""
    body = _raw_body(request)
    signature = request.headers.get(SIGNATURE_HEADER)
    matches = signature_matches(body=body, signature=signature)
    if matches is None:
        logger.error("webhooks.no_signing_key")
        raise _Rejected("no_signing_key", ServiceUnavailable("The receiver does not know the account's openId yet."))
    if not matches:
        raise _Rejected("bad_signature" if signature else "missing_signature", InvalidSignature())
    return body


class CJWebhookReceiveView(APIView):
    authentication_classes: list[Any] = []
    # The raw body is what CJ signed: nothing parses it before the signature is checked.
    parser_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    # Set by post(): a verified post counts in the pause guard's answers, a rejected one apart.
    is_verified = False
    rejection: str | None = None

    @extend_schema(
        summary="CJ webhook receiver",
        description="Signed with header `sign` (Base64 HMAC-SHA256 of the raw body keyed with the openId).",
        request={"application/json": {"type": "object"}},
        responses={
            200: OpenApiResponse(
                inline_serializer(
                    "WebhookAck",
                    {
                        "code": serializers.IntegerField(),
                        "result": serializers.CharField(),
                        "message": serializers.CharField(),
                    },
                ),
                description='`{"code": 200, "result": "success", "message": "ok"}` (`"duplicate"` for a redelivery)',
            ),
            **error_responses(
                {
                    400: "Malformed JSON, or messageId/type missing (`parse_error`, `validation_error`).",
                    401: "Signature missing or wrong (`invalid_signature`).",
                    413: "Body over `WEBHOOKS_MAX_BODY_BYTES` (`payload_too_large`).",
                    503: "The account's openId is not known yet, or the database is away (`service_unavailable`).",
                }
            ),
        },
    )
    def post(self, request: Request) -> Response:
        try:
            body = _verified_body(request)
        except _Rejected as rejected:
            self.rejection = rejected.reason
            rejected.log(request)
            raise rejected.answer from rejected
        self.is_verified = True
        message = message_parse(body)
        event_id = webhook_event_store(
            message=message, headers=headers_to_store(request.headers), remote_addr=_client_address(request)
        )
        return Response(ACK if event_id is not None else ACK_DUPLICATE, status=status.HTTP_200_OK)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method != "POST":
            return response
        if self.is_verified:
            answers.answer_record(status_code=response.status_code)
        else:
            answers.rejection_record(reason=self.rejection or "unverified")
        return response
