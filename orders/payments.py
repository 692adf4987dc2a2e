"""The buyer's payment at Stripe: the only module that calls Stripe (the official `stripe` SDK).

Each function maps one Stripe call and returns a small frozen dataclass; every Stripe failure the
buyer or a job cannot fix by itself (network, 5xx, rate limit, bad key) is raised as
`PaymentsUnavailable` (503), so no caller knows Stripe's exception classes. Stripe is never called
inside a database transaction.

Without `STRIPE_SECRET_KEY` the SDK talks to localstripe (`manage.py localstripe`), the stand-in
`make run` and the tests start on `STRIPE_API_BASE`; it accepts any key that starts with `sk_`.
"""

import logging
import os
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import requests
import stripe
from django.conf import settings

from config.domain_errors import DomainError

logger = logging.getLogger("integration.stripe")

# What the SDK sends localstripe when no STRIPE_SECRET_KEY is set (localstripe checks the prefix only).
LOCALSTRIPE_API_KEY = "sk_localstripe"
# Stripe's zero-decimal currencies (amounts are in whole units); all others here have two decimals.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
TEST_PAYMENT_METHOD = "pm_card_visa"


class PaymentsUnavailable(DomainError):
    """Stripe did not answer or refused our credentials: nothing was reserved, try again."""

    status = 503
    code = "service_unavailable"
    message = "Payments are unavailable right now; try again shortly."


class PaymentRefused(DomainError):
    """Stripe refused the request itself (e.g. a PaymentIntent in a state that forbids it)."""

    status = 409
    code = "conflict"
    message = "The payment provider refused this request."


@dataclass(frozen=True)
class PaymentIntentInfo:
    id: str
    status: str
    amount: int
    currency: str
    client_secret: str
    metadata: dict[str, str]


@dataclass(frozen=True)
class RefundInfo:
    id: str
    status: str
    amount: int


def to_minor_units(amount: Decimal, currency: str) -> int:
    """An amount in Stripe's smallest currency unit (cents for USD)."""
    exponent = 0 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 2
    return int((amount * (10**exponent)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def from_minor_units(amount: int, currency: str) -> Decimal:
    exponent = 0 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 2
    return (Decimal(amount) / (10**exponent)).quantize(Decimal("0.01"))


_clients: dict[tuple[str, str, float, int], stripe.StripeClient] = {}


def _client() -> stripe.StripeClient:
    """The process's StripeClient for the current settings (a new one after a fork: an RQ work
    horse must not share its parent's HTTP connections)."""
    key = (settings.STRIPE_SECRET_KEY or LOCALSTRIPE_API_KEY, settings.STRIPE_API_BASE,
           settings.STRIPE_TIMEOUT_SECONDS, os.getpid())  # fmt: skip
    client = _clients.get(key)
    if client is None:
        _clients.clear()
        client = stripe.StripeClient(
            api_key=key[0],
            base_addresses={"api": key[1]},
            http_client=stripe.RequestsClient(timeout=key[2]),
            max_network_retries=2,
        )
        _clients[key] = client
    return client


def _call(operation: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        result = function(*args, **kwargs)
    except stripe.InvalidRequestError as error:
        logger.warning("stripe.call", extra={"operation": operation, "outcome": "refused", "error": str(error)[:300]})
        raise PaymentRefused(str(error.user_message or error)[:300]) from error
    except stripe.StripeError as error:
        logger.error("stripe.call", extra={"operation": operation, "outcome": "unavailable", "error": str(error)[:300]})
        raise PaymentsUnavailable() from error
    logger.info("stripe.call", extra={"operation": operation, "outcome": "ok"})
    return result


def _intent(pi: Any) -> PaymentIntentInfo:
    return PaymentIntentInfo(
        id=pi.id,
        status=pi.status,
        amount=int(pi.amount),
        currency=str(pi.currency).lower(),
        client_secret=pi.client_secret or "",
        metadata={str(k): str(v) for k, v in (pi.metadata.to_dict() if pi.metadata else {}).items()},
    )


def payment_intent_create(*, order_number: str, amount: Decimal, currency: str) -> PaymentIntentInfo:
    """A PaymentIntent for an order's total, keyed by our order number (Stripe's idempotency key),
    with the number in its metadata. Raises PaymentsUnavailable."""
    pi = _call(
        "payment_intents.create",
        _client().v1.payment_intents.create,
        params={
            "amount": to_minor_units(amount, currency),
            "currency": currency.lower(),
            "metadata": {"order_number": order_number},
            "payment_method_types": ["card"],
        },
        options={"idempotency_key": f"order-{order_number}-payment-intent"},
    )
    return _intent(pi)


def payment_intent_retrieve(payment_intent_id: str) -> PaymentIntentInfo:
    return _intent(_call("payment_intents.retrieve", _client().v1.payment_intents.retrieve, payment_intent_id))


def payment_intent_cancel(payment_intent_id: str) -> PaymentIntentInfo:
    """Cancel a PaymentIntent; one that can no longer be cancelled (succeeded, or already
    cancelled) is returned as it is, so the caller reads what happened from its status."""
    try:
        return _intent(_call("payment_intents.cancel", _client().v1.payment_intents.cancel, payment_intent_id))
    except PaymentRefused:
        return payment_intent_retrieve(payment_intent_id)


def payment_intent_confirm_with_test_card(payment_intent_id: str) -> PaymentIntentInfo:
    """What a buyer does with Stripe.js, for demos and tests: attach the test card, then confirm
    (localstripe implements modify + confirm, not confirm(payment_method=...) in one call)."""
    service = _client().v1.payment_intents
    _call("payment_intents.update", service.update, payment_intent_id, params={"payment_method": TEST_PAYMENT_METHOD})
    return _intent(_call("payment_intents.confirm", service.confirm, payment_intent_id))


def refund_create(*, payment_intent_id: str, amount: Decimal, currency: str, idempotency_key: str) -> RefundInfo:
    """Refund `amount` of a succeeded PaymentIntent. Raises PaymentsUnavailable, PaymentRefused."""
    refund = _call(
        "refunds.create",
        _client().v1.refunds.create,
        params={"payment_intent": payment_intent_id, "amount": to_minor_units(amount, currency)},
        options={"idempotency_key": idempotency_key},
    )
    return RefundInfo(id=refund.id, status=str(refund.status), amount=int(refund.amount))


def webhook_event_verify(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event of a Stripe webhook whose `Stripe-Signature` verifies under STRIPE_WEBHOOK_SECRET
    within the tolerance, as a plain dict. Raises ValueError (not JSON) and
    stripe.SignatureVerificationError (missing, wrong or stale signature)."""
    event = stripe.Webhook.construct_event(
        payload,
        signature or "",
        settings.STRIPE_WEBHOOK_SECRET,
        tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
    )
    return event.to_dict(for_json=True)


SignatureVerificationError = stripe.SignatureVerificationError


def is_localstripe() -> bool:
    """Whether the shop talks to localstripe (no STRIPE_SECRET_KEY), not to Stripe."""
    return not settings.STRIPE_SECRET_KEY


def localstripe_webhook_register(*, url: str, events: tuple[str, ...]) -> None:
    """Have localstripe push `events`, signed with STRIPE_WEBHOOK_SECRET, to `url` (its
    `POST /_config/webhooks/<id>`; at Stripe an endpoint is set up in the dashboard instead).
    Raises requests.RequestException when localstripe does not answer or refuses."""
    response = requests.post(
        f"{settings.STRIPE_API_BASE.rstrip('/')}/_config/webhooks/shop",
        json={"url": url, "secret": settings.STRIPE_WEBHOOK_SECRET, "events": list(events)},
        timeout=5,
    )
    response.raise_for_status()
