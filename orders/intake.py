"""The storefront's order intake: the shipping quote, and `POST /api/orders` as one use case.

CJ and Stripe are never called inside a DB transaction: the quote is taken first (from the
freight cache when possible), then the PaymentIntent is created for the server-computed total
under the order's number, then the order is placed in one locked transaction
(orders.services.order_place) with the PaymentIntent's id. Stripe down → 503 before anything is
reserved; an order that cannot be placed (out of stock, a concurrent request with the same
Idempotency-Key) has its PaymentIntent cancelled, and nobody ever saw its client secret, so no
charge can exist without an order.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from catalog.models import Variant
from config.domain_errors import DomainError
from integrations.cj.types import FreightOption
from orders.errors import OrderRejected
from orders.freight import freight_quote
from orders.idempotency import order_idempotent_replay
from orders.models import Order
from orders.payments import (
    PaymentIntentInfo,
    payment_intent_cancel,
    payment_intent_create,
    payment_intent_retrieve,
)
from orders.services import (
    OrderLineInput,
    ShippingAddress,
    order_lines_validate,
    order_number_new,
    order_place,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intake:
    """An accepted order, and for Stripe orders the PaymentIntent the storefront confirms."""

    order: Order
    payment_intent: PaymentIntentInfo | None


def freight_quote_for_lines(
    *, country_code: str, zip: str, lines: Sequence[OrderLineInput]
) -> tuple[FreightOption, ...]:
    """Shipping options for order lines (variant ids and quantities), cheapest first.

    Reads the variants once and quotes them (orders.freight.freight_quote: cached, may call CJ).
    Raises OrderRejected (unknown or inactive variants), QuoteUnavailable, ShippingRefused and
    ShippingUnavailable.
    """
    variants = order_lines_validate(variant_ids=[line.variant_id for line in lines])
    return _quote(country_code=country_code, zip=zip, lines=lines, variants=variants)


def order_intake(
    *,
    email: str,
    name: str,
    phone: str,
    address: ShippingAddress,
    lines: Sequence[OrderLineInput],
    logistic_name: str,
    idempotency_key: str | None,
    body_hash: str,
    payment_reference: str = "",
) -> Intake:
    """Accept a storefront order: replay it for a repeated Idempotency-Key, or quote its shipping,
    create its PaymentIntent and place it (stock reserved, customer linked, timeline) to wait for
    the buyer's payment. With a `payment_reference` (PAYMENTS_PROVIDER=external) no PaymentIntent
    is made and the order starts paid. An empty `logistic_name` takes the cheapest quoted option.

    A replay (same key, same body) answers the first order and its PaymentIntent before any quote,
    so it never calls CJ; the key is checked again under its lock when placing. Raises
    IdempotencyKeyMismatch, IdempotencyKeyInFlight, OrderRejected (unknown or inactive variants,
    `logistic_name` not quoted), OutOfStock, QuoteUnavailable, ShippingRefused,
    ShippingUnavailable and PaymentsUnavailable.
    """
    if idempotency_key is not None:
        existing = order_idempotent_replay(idempotency_key=idempotency_key, body_hash=body_hash)
        if existing is not None:
            return _replayed(existing)
    variants = order_lines_validate(variant_ids=[line.variant_id for line in lines])
    options = _quote(country_code=address.country_code, zip=address.zip, lines=lines, variants=variants)
    option = _option_chosen(options, logistic_name)
    items_total = sum((variants[line.variant_id].price * line.quantity for line in lines), Decimal("0.00"))
    number = order_number_new()
    intent = None
    if not payment_reference:
        intent = payment_intent_create(
            order_number=number, amount=items_total + option.total_price, currency=settings.CATALOG_CURRENCY
        )
    try:
        order, created = order_place(
            email=email,
            name=name,
            phone=phone,
            address=address,
            lines=lines,
            logistic_name=option.logistic_name,
            shipping_total=option.total_price,
            idempotency_key=idempotency_key,
            body_hash=body_hash,
            variants=variants,
            number=number,
            payment_intent_id=intent.id if intent else "",
            payment_reference=payment_reference,
        )
    except Exception:
        if intent is not None:
            _cancel_quietly(intent.id)
        raise
    if not created:  # a concurrent request with the same Idempotency-Key placed it first
        if intent is not None:
            _cancel_quietly(intent.id)
        return _replayed(order)
    return Intake(order=order, payment_intent=intent)


def _replayed(order: Order) -> Intake:
    """The first answer again: the order, and its PaymentIntent as Stripe holds it now."""
    if not order.payment_intent_id:
        return Intake(order=order, payment_intent=None)
    return Intake(order=order, payment_intent=payment_intent_retrieve(order.payment_intent_id))


def _cancel_quietly(payment_intent_id: str) -> None:
    # Nobody saw this PaymentIntent's client secret, so it cannot be paid; cancelling tidies up.
    try:
        payment_intent_cancel(payment_intent_id)
    except DomainError:
        logger.warning("orders.payment_intent.cancel_failed", extra={"payment_intent_id": payment_intent_id})


def _quote(
    *, country_code: str, zip: str, lines: Sequence[OrderLineInput], variants: dict[int, Variant]
) -> tuple[FreightOption, ...]:
    return freight_quote(
        country_code=country_code, zip=zip, lines=[(variants[line.variant_id], line.quantity) for line in lines]
    )


def _option_chosen(options: tuple[FreightOption, ...], logistic_name: str) -> FreightOption:
    if not logistic_name:
        return options[0]
    for option in options:
        if option.logistic_name == logistic_name:
            return option
    names = ", ".join(option.logistic_name for option in options)
    raise OrderRejected(details={"logistic_name": [f"Not one of the quoted options: {names}."]})
