from decimal import Decimal

import pytest

from catalog.pricing import PricingRule, current_rule


@pytest.mark.parametrize(
    ("cost", "expected"),
    [
        ("4.00", "9.90"),  # 4 * 2 + 1 = 9.00 -> 9.90
        ("4.45", "9.90"),  # 9.90 exactly stays
        ("4.46", "10.90"),  # 9.92 -> next ending
        ("0.01", "1.90"),
        ("0", "0.00"),
    ],
)
def test_price_is_markup_plus_fixed_rounded_up_to_the_ending(cost, expected):
    rule = PricingRule(markup=Decimal("2"), fixed=Decimal("1"), ending=Decimal("0.90"), min_margin_percent=Decimal("0"))

    assert rule.price_for(Decimal(cost)) == Decimal(expected)


def test_margin_floor_wins_over_a_low_markup():
    # 10 * 1.1 + 0 = 11 gives a 9 % margin; a 50 % floor needs 20.00 -> 20.99.
    rule = PricingRule(
        markup=Decimal("1.1"), fixed=Decimal("0"), ending=Decimal("0.99"), min_margin_percent=Decimal("50")
    )

    price = rule.price_for(Decimal("10.00"))

    assert price == Decimal("20.99")
    assert (price - Decimal("10.00")) / price >= Decimal("0.5")


def test_current_rule_reads_settings(settings):
    settings.CATALOG_PRICE_MARKUP = "3"
    settings.CATALOG_PRICE_FIXED = "0.50"
    settings.CATALOG_PRICE_ENDING = "0.95"
    settings.CATALOG_MIN_MARGIN_PERCENT = "10"

    assert current_rule() == PricingRule(
        markup=Decimal("3"), fixed=Decimal("0.50"), ending=Decimal("0.95"), min_margin_percent=Decimal("10")
    )
    assert current_rule().price_for(Decimal("2.00")) == Decimal("6.95")
