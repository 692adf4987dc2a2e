"""Control endpoints under /_sim/ (a prefix CJ does not use), for tests and demos.

All take and return plain JSON (no CJ envelope). Errors answer HTTP 400/404 with {"error": ...}.
"""

import random
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.cj.simulator import catalog as cat
from integrations.cj.simulator.api.routes import ROUTES
from integrations.cj.simulator.api.shopping import LIFECYCLE, ORDER_STATUSES, order_json, set_order_status
from integrations.cj.simulator.state import FaultRule, SimConfig, Simulator


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _variant(sim: Simulator, body: dict[str, Any]) -> tuple[cat.SimProduct, cat.SimVariant]:
    found = sim.find_variant(str(body.get("vid", "")))
    if found is None:
        raise ControlError(f"unknown vid {body.get('vid')!r}", 404)
    return found


def reset(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    """Fresh state; settings not given keep the server's start-up values (see SimConfig)."""
    try:
        config = SimConfig.from_dict(body, base=sim.base_config)
    except (TypeError, ValueError) as error:
        raise ControlError(str(error)) from error
    sim.reset(config)
    return {"products": len(sim.catalog), "qps": config.qps, "seed": config.seed}


def info(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "api_key": sim.config.api_key,
        "open_id": str(sim.config.open_id),
        "products": len(sim.catalog),
        "qps": sim.config.qps,
        "sample_pid": cat.SAMPLE_PID,
        "pids": list(sim.catalog),
    }


def catalog_listing(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    """Every product's pid with its variants' vids and weights (to seed a shop without spending points)."""
    return {
        "products": [
            {
                "pid": product.pid,
                "name": product.name,
                "variants": [
                    {
                        "vid": variant.vid,
                        "sku": variant.sku,
                        "weight": str(variant.weight),
                        "price": str(variant.price),
                        "stock": sum(variant.stock.values()),
                    }
                    for variant in product.variants
                ],
            }
            for product in sim.catalog.values()
        ]
    }


def set_points(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    """Change the points of the day without a reset: `daily_points`, `order_volume_usd`, `used` (today's)."""
    changes: dict[str, Any] = {}
    try:
        if "daily_points" in body:
            changes["daily_points"] = int(body["daily_points"])
        if "order_volume_usd" in body:
            changes["order_volume_usd"] = float(body["order_volume_usd"])
        used = int(body["used"]) if "used" in body else None
    except (TypeError, ValueError) as error:
        raise ControlError(f"bad points: {error}") from error
    sim.config = SimConfig.from_dict(changes, base=sim.config)
    if used is not None:
        sim.daily_points[sim.now().strftime("%Y-%m-%d")] = used
    return sim.points_today()


def set_stock(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    _product, variant = _variant(sim, body)
    stock = body.get("stock")
    if not isinstance(stock, int) or stock < 0:
        raise ControlError("stock must be a non-negative integer")
    variant.stock[str(body.get("country_code", "CN"))] = stock
    if sim.pusher is not None:
        sim.pusher.stock_changed(variant)
    return {"vid": variant.vid, "stock": dict(variant.stock)}


def set_price(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    _product, variant = _variant(sim, body)
    try:
        price = Decimal(str(body.get("price")))
    except InvalidOperation as error:
        raise ControlError("price must be a decimal number") from error
    if not price.is_finite() or price <= 0:
        raise ControlError("price must be positive")
    # An absurd figure (1e999999, which CJ's JSON then carries as a number no float holds) is kept
    # as given, so the client's refusal of it can be tested.
    variant.price = price.quantize(Decimal("0.01")) if price.adjusted() < 12 else price
    if sim.pusher is not None:
        sim.pusher.variant_changed(variant, "UPDATE", {"variantSellPrice": float(variant.price)})
    return {"vid": variant.vid, "price": str(variant.price)}


def add_product(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    index = max(int(pid) for pid in sim.catalog) // 100 - int(cat.SAMPLE_PID) // 100 + 1
    product = cat.generate_product(random.Random(sim.config.seed * 7919 + index), index)
    if body.get("name"):
        product.name = str(body["name"])
    if body.get("description") is not None:  # supplier HTML as given, hostile or not
        product.description = str(body["description"])
    sim.catalog[product.pid] = product
    if sim.pusher is not None:
        sim.pusher.product_changed(product, "INSERT", {"productNameEn": product.name, "productSku": product.sku})
    return {"pid": product.pid, "vids": [variant.vid for variant in product.variants]}


def remove_product(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    product = sim.catalog.get(str(body.get("pid", "")))
    if product is None:
        raise ControlError(f"unknown pid {body.get('pid')!r}", 404)
    if body.get("delete"):
        del sim.catalog[product.pid]
        change = "DELETE"
    else:
        product.on_sale = False
        change = "UPDATE"
    if sim.pusher is not None:
        sim.pusher.product_changed(product, change, {"productStatus": 2})
    return {"pid": product.pid, "removed": True}


def remove_variant(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    _product, variant = _variant(sim, body)
    variant.on_sale = False
    if sim.pusher is not None:
        sim.pusher.variant_changed(variant, "UPDATE", {"variantStatus": 0})
    return {"vid": variant.vid, "removed": True}


def advance_order(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    """Move an order (our number or CJ id) to `status`, or one step along the lifecycle."""
    order = sim.find_order(str(body.get("order_id", "")))
    if order is None:
        raise ControlError(f"unknown order {body.get('order_id')!r}", 404)
    target = body.get("status") or LIFECYCLE.get(order.status)
    if target not in ORDER_STATUSES:
        raise ControlError(f"order {order.order_number} is {order.status}: no next status")
    if target == "UNSHIPPED" and order.paid_at is None:
        order.paid_at = sim.now()
    set_order_status(sim, order, target)
    return order_json(sim, order)


def list_orders(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "orders": [
            {**order_json(sim, order), "history": order.history, "request": order.body} for order in sim.orders.values()
        ]
    }


def push_webhook(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    """Push an arbitrary message: {"type": "PRODUCT", "messageType": "UPDATE", "params": {...}}."""
    if sim.pusher is None:
        raise ControlError("webhooks are not running")
    message_type = str(body.get("type", ""))
    if message_type not in ("PRODUCT", "VARIANT", "STOCK", "ORDER", "ORDERSPLIT", "LOGISTIC"):
        raise ControlError("type must be PRODUCT, VARIANT, STOCK, ORDER, ORDERSPLIT or LOGISTIC")
    if not isinstance(body.get("params"), dict):
        raise ControlError("params must be an object")
    message_id = sim.pusher.push(message_type, str(body.get("messageType", "UPDATE")), body["params"])
    if message_id is None:
        raise ControlError("no callback URL registered for this type (or pushes are paused)", 409)
    return {"messageId": message_id}


def webhooks(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    pusher = sim.pusher
    return {
        "registered": dict(sim.webhooks),
        "stats": pusher.stats() if pusher else {},
        "deliveries": list(pusher.log) if pusher else [],
    }


def add_fault(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    kind = body.get("kind")
    if kind not in FaultRule.KINDS:
        raise ControlError(f"kind must be one of {', '.join(FaultRule.KINDS)}")
    endpoint = str(body.get("endpoint", ""))
    if endpoint and endpoint not in ROUTES:
        raise ControlError(f"unknown endpoint {endpoint!r}")
    try:
        rule = FaultRule(
            kind=kind,
            rate=float(body.get("rate", 1.0)),
            endpoint=endpoint,
            count=int(body["count"]) if body.get("count") is not None else None,
            latency_ms=int(body.get("latency_ms", 1000)),
            status=int(body.get("status", 500)),
        )
    except (TypeError, ValueError) as error:
        raise ControlError(f"bad fault: {error}") from error
    sim.faults.append(rule)
    return {"faults": len(sim.faults)}


def clear_faults(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    sim.faults.clear()
    return {"faults": 0}


def move_clock(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    try:
        seconds = float(body.get("advance_seconds", 0))
    except (TypeError, ValueError) as error:
        raise ControlError("advance_seconds must be a number") from error
    sim.advance_clock(seconds)
    return {"now": sim.now().isoformat()}


def expire_tokens(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    return {"expired": sim.expire_tokens()}


def balance(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    """Set the account's balance (`amount`, USD) and/or whether balance payment is restricted
    (`restricted`: CJ then answers 1604001); with an empty body, just read them."""
    if "amount" in body:
        try:
            amount = Decimal(str(body["amount"]))
        except InvalidOperation as error:
            raise ControlError("amount must be a decimal number") from error
        if not amount.is_finite() or amount < 0:
            raise ControlError("amount must be a non-negative number")
        sim.balance = amount.quantize(Decimal("0.01"))
    if "restricted" in body:
        if not isinstance(body["restricted"], bool):
            raise ControlError("restricted must be true or false")
        sim.balance_restricted = body["restricted"]
    return {"amount": str(sim.balance), "restricted": sim.balance_restricted}


def stats(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    return sim.stats_json()


# (method, path after /_sim/) -> handler
CONTROL_ROUTES = {
    ("POST", "reset"): reset,
    ("GET", "info"): info,
    ("GET", "catalog"): catalog_listing,
    ("GET", "stats"): stats,
    ("POST", "points"): set_points,
    ("POST", "stock"): set_stock,
    ("POST", "price"): set_price,
    ("POST", "products"): add_product,
    ("POST", "products/remove"): remove_product,
    ("POST", "variants/remove"): remove_variant,
    ("GET", "orders"): list_orders,
    ("POST", "orders/advance"): advance_order,
    ("GET", "webhooks"): webhooks,
    ("POST", "webhooks/push"): push_webhook,
    ("POST", "faults"): add_fault,
    ("DELETE", "faults"): clear_faults,
    ("POST", "clock"): move_clock,
    ("POST", "tokens/expire"): expire_tokens,
    ("GET", "balance"): balance,
    ("POST", "balance"): balance,
}
