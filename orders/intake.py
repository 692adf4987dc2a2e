"""The storefront's order intake: the shipping quote, and `POST /api/orders` as one use case.

CJ is never called inside a DB transaction: the quote is taken first (from the freight cache
when possible), then the order is placed in one locked transaction (orders.services.order_place).
"""

from collections.abc import Sequence

from catalog.models import Variant
from integrations.cj.types import FreightOption
from orders.errors import OrderRejected
from orders.freight import freight_quote
from orders.models import Order
from orders.services import OrderLineInput, ShippingAddress, order_idempotent_replay, order_lines_validate, order_place


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
) -> Order:
    """Accept a storefront order: replay it for a repeated Idempotency-Key, or quote its shipping
    and place it (stock reserved, customer linked, timeline, forwarding to CJ enqueued after
    commit). An empty `logistic_name` takes the cheapest quoted option.

    A replay (same key, same body) answers the first order before any quote, so it never calls
    CJ; the key is checked again under its lock when placing. Raises IdempotencyKeyMismatch,
    IdempotencyKeyInFlight, OrderRejected (unknown or inactive variants, `logistic_name` not
    quoted), OutOfStock, QuoteUnavailable, ShippingRefused and ShippingUnavailable.
    """
    if idempotency_key is not None:
        existing = order_idempotent_replay(idempotency_key=idempotency_key, body_hash=body_hash)
        if existing is not None:
            return existing
    variants = order_lines_validate(variant_ids=[line.variant_id for line in lines])
    options = _quote(country_code=address.country_code, zip=address.zip, lines=lines, variants=variants)
    option = _option_chosen(options, logistic_name)
    order, _created = order_place(
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
    )
    return order


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
