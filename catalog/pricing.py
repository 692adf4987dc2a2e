"""The pricing rule: our price from CJ's cost.

    price = round_up_to_ending(max(cost * markup + fixed, cost / (1 - min_margin)))

The ending (e.g. 0.90) is the cents every price ends with; rounding always goes up, so the
margin floor holds after rounding. The rule comes from settings (CATALOG_PRICE_*); changing it
re-prices every variant on the next sync run, or at once with `manage.py sync_cj reprice`.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.conf import settings

CENT = Decimal("0.01")


@dataclass(frozen=True)
class PricingRule:
    markup: Decimal
    fixed: Decimal
    ending: Decimal
    min_margin_percent: Decimal

    def price_for(self, cost: Decimal) -> Decimal:
        """Our price for a supplier cost (both in the catalog currency)."""
        if cost <= 0:
            return Decimal("0.00")
        target = cost * self.markup + self.fixed
        floor_ratio = Decimal(1) - self.min_margin_percent / Decimal(100)
        if floor_ratio > 0:
            target = max(target, cost / floor_ratio)
        return self._round_up_to_ending(target)

    def _round_up_to_ending(self, amount: Decimal) -> Decimal:
        # The smallest whole number w with w + ending >= amount.
        whole = (amount - self.ending).to_integral_value(rounding=ROUND_CEILING)
        return (whole + self.ending).quantize(CENT)

    def describe(self) -> str:
        return (
            f"cost x {self.markup} + {self.fixed}, rounded up to end in {self.ending}, "
            f"margin never below {self.min_margin_percent}%"
        )


def current_rule() -> PricingRule:
    """The rule configured in settings."""
    return PricingRule(
        markup=Decimal(str(settings.CATALOG_PRICE_MARKUP)),
        fixed=Decimal(str(settings.CATALOG_PRICE_FIXED)),
        ending=Decimal(str(settings.CATALOG_PRICE_ENDING)),
        min_margin_percent=Decimal(str(settings.CATALOG_MIN_MARGIN_PERCENT)),
    )


def cost_change_limit() -> Decimal:
    """CATALOG_MAX_PRICE_CHANGE_PERCENT, read once by a caller that checks many variants."""
    return Decimal(settings.CATALOG_MAX_PRICE_CHANGE_PERCENT)


def cost_change_is_held(*, current: Decimal, proposed: Decimal, limit: Decimal | None = None) -> bool:
    """True when CJ's new cost differs from the one we sell by more than `limit` percent
    (default CATALOG_MAX_PRICE_CHANGE_PERCENT): the variant keeps its cost and price until staff
    decide.

    A variant without a cost yet (0) is never held; a limit of 0 turns the hold off.
    """
    if limit is None:
        limit = cost_change_limit()
    if limit <= 0 or current <= 0:
        return False
    return abs(proposed - current) * 100 > current * limit
