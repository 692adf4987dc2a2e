"""`POST /api/webhooks/cj`: CJ's pushes. Verify, store, acknowledge; processing happens later.

CJ wants HTTP 200 within 3 seconds and pauses every push once half of them fail, so the view
does only what an answer needs: a size check, the signature over the raw body, one INSERT, and
the enqueue after commit. No session authentication (no CSRF), no throttle: CJ's bursts are
legitimate and the signature check is cheaper than a throttle lookup.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import PayloadTooLarge, ServiceUnavailable
from integrations.cj.client import get_client
from webhooks import answers
from webhooks.messages import SIGNATURE_HEADER, MessageInvalid, headers_to_store, message_parse, signature_is_valid
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


def _raw_body(request: Request) -> bytes:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as error:
        raise exceptions.ParseError("Content-Length is not a number.") from error
    if declared > settings.WEBHOOKS_MAX_BODY_BYTES:
        raise PayloadTooLarge()
    try:
        body = request.body
    except RequestDataTooBig as error:
        raise PayloadTooLarge() from error
    if len(body) > settings.WEBHOOKS_MAX_BODY_BYTES:
        raise PayloadTooLarge()
    return body


class CJWebhookReceiveView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    @extend_schema(
        summary="CJ webhook receiver",
        description="Signed with header `sign` (Base64 HMAC-SHA256 of the raw body keyed with the openId).",
        request={"application/json": {"type": "object"}},
        responses={
            200: OpenApiResponse(description='`{"code": 200, "result": "success", "message": "ok"}`'),
            400: OpenApiResponse(description="Malformed JSON, or messageId/type missing"),
            401: OpenApiResponse(description="Signature missing or wrong"),
            413: OpenApiResponse(description="Body over 1 MB"),
        },
    )
    def post(self, request: Request) -> Response:
        body = _raw_body(request)
        signature = request.headers.get(SIGNATURE_HEADER)
        matches = signature_matches(body=body, signature=signature)
        if matches is None:
            logger.error("webhooks.no_signing_key")
            raise ServiceUnavailable("The receiver does not know the account's openId yet.")
        if not matches:
            security_logger.warning(
                "security.webhook.bad_signature",
                extra={"client": _client_address(request), "reason": "wrong" if signature else "missing"},
            )
            raise InvalidSignature()
        try:
            message = message_parse(body)
        except MessageInvalid as error:
            raise exceptions.ValidationError({"body": [str(error)]}) from error
        event_id = webhook_event_store(
            message=message, headers=headers_to_store(request.headers), remote_addr=_client_address(request)
        )
        return Response(ACK if event_id is not None else ACK_DUPLICATE, status=status.HTTP_200_OK)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method == "POST":
            answers.answer_record(status_code=response.status_code)
        return response
