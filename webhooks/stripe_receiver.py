"""`POST /api/webhooks/stripe`: Stripe's events. Verify, store once, acknowledge; processing
happens on `process-webhook`, as for CJ's pushes (the same inbox, provider `stripe`).

The signature is checked by the SDK (`stripe.Webhook.construct_event`: header `Stripe-Signature`,
secret STRIPE_WEBHOOK_SECRET, tolerance STRIPE_WEBHOOK_TOLERANCE_SECONDS): a missing, wrong or
stale signature answers 400 and stores nothing. Stripe retries any answer other than 2xx.
"""

import logging
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import ServiceUnavailable
from config.api_schema import error_responses
from orders.payments import SignatureVerificationError, webhook_event_verify
from webhooks.messages import MAX_ID_LENGTH, MAX_TYPE_LENGTH, Message, headers_to_store
from webhooks.models import WebhookEvent
from webhooks.services import webhook_event_store
from webhooks.views import _client_address, _raw_body, _Rejected

security_logger = logging.getLogger("security")
logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Stripe-Signature"


class InvalidStripeSignature(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The Stripe-Signature header is missing, wrong or too old."
    default_code = "invalid_signature"


def _event_message(event: dict[str, Any], text: str) -> Message:
    event_id, event_type = event.get("id"), event.get("type")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(event_id, str) or not event_id or len(event_id) > MAX_ID_LENGTH:
        raise exceptions.ParseError("The event has no usable id.")
    if not isinstance(event_type, str) or not event_type:
        raise exceptions.ParseError("The event has no type.")
    return Message(
        message_id=event_id,
        topic=event_type[:MAX_TYPE_LENGTH],
        message_type="",
        params=obj if isinstance(obj, dict) else {},
        text=text,
    )


class StripeWebhookReceiveView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    @extend_schema(
        summary="Stripe webhook receiver",
        description="Signed with `Stripe-Signature` (Stripe's scheme, secret STRIPE_WEBHOOK_SECRET).",
        request={"application/json": {"type": "object"}},
        responses={
            200: OpenApiResponse(
                inline_serializer(
                    "StripeWebhookAck",
                    {"received": serializers.BooleanField(), "duplicate": serializers.BooleanField()},
                ),
                description='`{"received": true, "duplicate": false}` (`"duplicate": true` for a redelivery)',
            ),
            **error_responses(
                {
                    400: "Signature missing, wrong or too old, or not a Stripe event (`invalid_signature`, "
                    "`validation_error`).",
                    413: "Body over `WEBHOOKS_MAX_BODY_BYTES` (`payload_too_large`).",
                    503: "No `STRIPE_WEBHOOK_SECRET` configured, or the database is away (`service_unavailable`).",
                }
            ),
        },
    )
    def post(self, request: Request) -> Response:
        try:
            body = _raw_body(request)
        except _Rejected as rejected:
            rejected.log(request)
            raise rejected.answer from rejected
        if not settings.STRIPE_WEBHOOK_SECRET:
            logger.error("webhooks.stripe.no_signing_secret")
            raise ServiceUnavailable("STRIPE_WEBHOOK_SECRET is not set.")
        try:
            event = webhook_event_verify(payload=body, signature=request.headers.get(SIGNATURE_HEADER))
            text = body.decode("utf-8")
        except SignatureVerificationError as error:
            reason = "missing" if not request.headers.get(SIGNATURE_HEADER) else "wrong"
            security_logger.warning(
                "security.webhook.bad_signature",
                extra={"client": _client_address(request), "reason": reason, "provider": "stripe"},
            )
            raise InvalidStripeSignature() from error
        except ValueError as error:  # signed, but not JSON / not UTF-8
            raise exceptions.ParseError("The body is not a JSON event.") from error
        message = _event_message(event, text)
        headers = {k: v for k, v in headers_to_store(request.headers).items() if k.lower() != "stripe-signature"}
        event_id = webhook_event_store(
            message=message,
            headers=headers,
            remote_addr=_client_address(request),
            provider=WebhookEvent.Provider.STRIPE,
        )
        return Response({"received": True, "duplicate": event_id is None}, status=status.HTTP_200_OK)
