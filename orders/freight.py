"""Freight quotes from CJ (`logistic/freightCalculate`, 10 points a call), cached so that repeated
quotes cost nothing.

Answers come, in order, from: the cart's own quote (same destination and items, within the hour);
the quote of its route and weight class (same ship-from and destination country, total weight in
the same `WEIGHT_CLASS_GRAMS` bracket, within `CJ_QUOTE_CACHE_HOURS`); CJ. When CJ refuses for
points (the day's points are gone), the route and weight class's last quote of the past week is
used instead, so orders are still accepted; only a class never quoted answers 503.
Every quote marks its products as in demand (their stock is refreshed sooner: catalog.stock_plan).
"""

import hashlib
import json
import math
from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.core.cache import caches

from catalog.models import Variant
from catalog.stock_plan import product_demand_mark
from integrations.cj.client import get_client
from integrations.cj.errors import CJError, CJPermanentError, CJQuotaExceededError
from integrations.cj.points import CJPurpose, cj_purpose
from integrations.cj.types import FreightOption, OrderLine
from orders.errors import QuoteUnavailable, ShippingRefused, ShippingUnavailable

# Weight brackets of the route cache: 50 g steps up to 2 kg, 500 g steps above.
WEIGHT_CLASS_GRAMS = 50
HEAVY_FROM_GRAMS = 2000
HEAVY_CLASS_GRAMS = 500
FALLBACK_SECONDS = 7 * 24 * 60 * 60  # how long a route's quote may stand in when CJ's points are gone


def weight_class(grams: Decimal) -> int:
    """The upper bound (grams) of the bracket `grams` falls in."""
    step = WEIGHT_CLASS_GRAMS if grams <= HEAVY_FROM_GRAMS else HEAVY_CLASS_GRAMS
    return max(step, math.ceil(grams / step) * step)


def route_key(*, from_country: str, to_country: str, lines: Sequence[tuple[Variant, int]]) -> str | None:
    """The route and weight class cache key, or None when a variant's weight is unknown."""
    if any(variant.weight_grams is None for variant, _quantity in lines):
        return None
    grams = sum((Decimal(variant.weight_grams or 0) * quantity for variant, quantity in lines), Decimal(0))
    return f"quote:route:{from_country}:{to_country}:{weight_class(grams)}"


def freight_quote(*, country_code: str, zip: str, lines: Sequence[tuple[Variant, int]]) -> tuple[FreightOption, ...]:
    """Shipping options for `(variant, quantity)` lines to a destination, cheapest first.

    Never call it inside a DB transaction (it may call CJ). Raises QuoteUnavailable when CJ has no
    option, ShippingRefused when CJ refuses the destination (a permanent CJ error) and
    ShippingUnavailable when CJ does not answer (any other CJ error) and no cached quote stands in.
    """
    cj_lines = tuple(sorted((variant.cj_vid, quantity) for variant, quantity in lines))
    cache = caches["freight"]
    exact = "quote:" + hashlib.sha256(json.dumps([country_code, zip, cj_lines]).encode()).hexdigest()
    by_route = route_key(from_country=settings.CJ_SHIP_FROM_COUNTRY, to_country=country_code, lines=lines)
    product_demand_mark(variant_ids=[variant.pk for variant, _quantity in lines])
    options = cache.get(exact)
    if options is None and by_route is not None:
        options = cache.get(by_route)
    if options is None:
        options = _quote_from_cj(country_code=country_code, zip=zip, cj_lines=cj_lines, by_route=by_route)
        cache.set(exact, options)
        if by_route is not None:
            cache.set(by_route, options, settings.CJ_QUOTE_CACHE_HOURS * 3600)
            cache.set(f"{by_route}:fallback", options, FALLBACK_SECONDS)
    if not options:
        raise QuoteUnavailable(details={"country_code": ["No shipping option to this destination."]})
    return options


def _quote_from_cj(
    *, country_code: str, zip: str, cj_lines: tuple[tuple[str, int], ...], by_route: str | None
) -> tuple[FreightOption, ...]:
    try:
        with cj_purpose(CJPurpose.QUOTES):
            options = get_client().calculate_freight(
                from_country_code=settings.CJ_SHIP_FROM_COUNTRY,
                to_country_code=country_code,
                zip=zip,
                lines=[OrderLine(vid=vid, quantity=quantity) for vid, quantity in cj_lines],
            )
    except CJPermanentError as error:
        raise ShippingRefused(details={"country_code": [f"CJ cannot ship there: {error.message}"]}) from error
    except CJQuotaExceededError as error:
        stand_in = caches["freight"].get(f"{by_route}:fallback") if by_route is not None else None
        if stand_in is not None:
            return tuple(stand_in)
        raise ShippingUnavailable() from error
    except CJError as error:
        raise ShippingUnavailable() from error
    return tuple(sorted(options, key=lambda option: (option.total_price, option.logistic_name)))
