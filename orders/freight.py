"""Freight quotes from CJ (`logistic/freightCalculate`), cached 1 h per destination and items."""

import hashlib
import json
from collections.abc import Sequence

from django.conf import settings
from django.core.cache import caches

from catalog.models import Variant
from integrations.cj.client import get_client
from integrations.cj.errors import CJError, CJPermanentError
from integrations.cj.types import FreightOption, OrderLine
from orders.errors import QuoteUnavailable, ShippingRefused, ShippingUnavailable


def freight_quote(*, country_code: str, zip: str, lines: Sequence[tuple[Variant, int]]) -> tuple[FreightOption, ...]:
    """Shipping options for `(variant, quantity)` lines to a destination, cheapest first.

    Answers from the `freight` cache when the same destination and items were quoted within the
    hour, else calls CJ (never call it inside a DB transaction). Raises QuoteUnavailable when CJ
    has no option, ShippingRefused when CJ refuses the destination (a permanent CJ error) and
    ShippingUnavailable when CJ does not answer (any other CJ error).
    """
    cj_lines = tuple(sorted((variant.cj_vid, quantity) for variant, quantity in lines))
    cache = caches["freight"]
    key = "quote:" + hashlib.sha256(json.dumps([country_code, zip, cj_lines]).encode()).hexdigest()
    options = cache.get(key)
    if options is None:
        try:
            options = get_client().calculate_freight(
                from_country_code=settings.CJ_SHIP_FROM_COUNTRY,
                to_country_code=country_code,
                zip=zip,
                lines=[OrderLine(vid=vid, quantity=quantity) for vid, quantity in cj_lines],
            )
        except CJPermanentError as error:
            raise ShippingRefused(details={"country_code": [f"CJ cannot ship there: {error.message}"]}) from error
        except CJError as error:
            raise ShippingUnavailable() from error
        options = tuple(sorted(options, key=lambda option: (option.total_price, option.logistic_name)))
        cache.set(key, options)
    if not options:
        raise QuoteUnavailable(details={"country_code": ["No shipping option to this destination."]})
    return options
