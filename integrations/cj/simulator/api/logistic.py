"""CJ's Logistic section: freight calculation and tracking."""

from decimal import Decimal
from typing import Any

from integrations.cj.simulator.api.product import variant_on_sale
from integrations.cj.simulator.api.wire import SimRequest, object_body, required
from integrations.cj.simulator.state import SimError, Simulator

EU = {"DE", "FR", "IT", "ES", "NL", "BE", "AT", "PL", "SE", "IE", "PT", "DK", "FI"}
COUNTRIES = EU | {"US", "GB", "CA", "AU", "CN", "JP", "MX", "BR", "NZ", "CH", "NO"}


def freight_options(
    sim: Simulator, from_country: str, to_country: str, lines: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The shipping options for a destination and its lines (deterministic)."""
    for code in (from_country, to_country):
        if code not in COUNTRIES:
            raise SimError(1605002, f"country code not found: {code}")
    weight = Decimal(0)
    for line in lines:
        _product, variant = variant_on_sale(sim, str(line.get("vid") or ""))
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or quantity < 1:
            raise SimError(1600300, "Param error: quantity must be a positive integer")
        weight += variant.weight * quantity
    services = [("CJPacket Ordinary", "7-12", Decimal("2.50"), Decimal("0.012"))]
    if to_country == "US":
        services.append(("USPS+", "5-9", Decimal("3.80"), Decimal("0.015")))
    if to_country in EU:
        services.append(("YunExpress EU", "6-10", Decimal("3.20"), Decimal("0.013")))
    services.append(("DHL Official", "3-7", Decimal("12.00"), Decimal("0.030")))
    options = []
    for name, aging, base, per_gram in services:
        price = (base + per_gram * weight).quantize(Decimal("0.01"))
        options.append(
            {
                "logisticName": name,
                "logisticAging": aging,
                "logisticPrice": float(price),
                "logisticPriceCn": float((price * Decimal("7.15")).quantize(Decimal("0.01"))),
                "taxesFee": 0.0,
                "clearanceOperationFee": 0.0,
                "totalPostageFee": float(price),
            }
        )
    return options


def freight_calculate(sim: Simulator, request: SimRequest) -> list[dict[str, Any]]:
    body = object_body(request)
    required(request, "startCountryCode", "endCountryCode", "products")
    if not isinstance(body["products"], list):
        raise SimError(1600300, "Param error: products must be a list")
    return freight_options(sim, str(body["startCountryCode"]), str(body["endCountryCode"]), body["products"])


def track_info(sim: Simulator, request: SimRequest) -> list[dict[str, Any]]:
    numbers = request.args("trackNumber")
    if not numbers:
        raise SimError(16900403, "trackNumber must not be empty")
    by_number = {order.track_number: order for order in sim.orders.values() if order.track_number}
    rows = []
    for number in numbers:
        order = by_number.get(number)
        if order is None:
            continue
        rows.append(
            {
                "trackingNumber": number,
                "trackingFrom": order.from_country,
                "trackingTo": order.body.get("shippingCountryCode"),
                "deliveryDay": "9",
                "deliveryTime": sim.order_date(order.status_changed_at) if order.status == "DELIVERED" else "",
                "trackingStatus": "Delivered" if order.status == "DELIVERED" else "In transit",
                "lastMileCarrier": "USPS" if order.body.get("shippingCountryCode") == "US" else "Local Post",
                "lastTrackNumber": f"LM{number}",
            }
        )
    return rows
