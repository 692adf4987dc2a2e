"""Freight quotes from CJ (`logistic/freightCalculate`), cached 1 h per destination and items."""

import hashlib
import json
from collections.abc import Sequence

from django.conf import settings
from django.core.cache import caches

from catalog.models import Variant
from integrations.cj.client import get_client
from integrations.cj.types import FreightOption, OrderLine


class QuoteUnavailable(Exception):
    """CJ offers no shipping for this destination and items."""


def freight_quote(*, country_code: str, zip: str, lines: Sequence[tuple[Variant, int]]) -> tuple[FreightOption, ...]:
    """Shipping options for `(variant, quantity)` lines to a destination, cheapest first.

    Answers from the `freight` cache when the same destination and items were quoted within the
    hour. Raises QuoteUnavailable when CJ has no option, and CJ's errors otherwise (a permanent
    one for a destination CJ does not know, a transient one when CJ is unreachable).
    """
    cj_lines = tuple(sorted((variant.cj_vid, quantity) for variant, quantity in lines))
    cache = caches["freight"]
    key = "quote:" + hashlib.sha256(json.dumps([country_code, zip, cj_lines]).encode()).hexdigest()
    options = cache.get(key)
    if options is None:
        options = get_client().calculate_freight(
            from_country_code=settings.CJ_SHIP_FROM_COUNTRY,
            to_country_code=country_code,
            zip=zip,
            lines=[OrderLine(vid=vid, quantity=quantity) for vid, quantity in cj_lines],
        )
        options = tuple(sorted(options, key=lambda option: (option.total_price, option.logistic_name)))
        cache.set(key, options)
    if not options:
        raise QuoteUnavailable(f"no shipping option to {country_code}")
    return options
