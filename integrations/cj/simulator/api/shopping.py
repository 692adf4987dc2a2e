"""CJ's Shopping section: orders (create, detail, list, confirm, delete) and balance payment."""

from decimal import Decimal
from typing import Any

from integrations.cj.simulator.api.logistic import freight_options
from integrations.cj.simulator.api.product import variant_on_sale
from integrations.cj.simulator.api.wire import SimRequest, int_arg, object_body, required
from integrations.cj.simulator.state import SimError, SimOrder, Simulator

ORDER_STATUSES = ("CREATED", "IN_CART", "UNPAID", "UNSHIPPED", "SHIPPED", "DELIVERED", "CANCELLED")
LIFECYCLE = {
    "CREATED": "UNPAID",
    "IN_CART": "UNPAID",
    "UNPAID": "UNSHIPPED",
    "UNSHIPPED": "SHIPPED",
    "SHIPPED": "DELIVERED",
}
_ORDER_REQUIRED = (
    "orderNumber",
    "shippingCountryCode",
    "shippingCountry",
    "shippingProvince",
    "shippingCity",
    "shippingCustomerName",
    "shippingAddress",
    "logisticName",
    "fromCountryCode",
    "products",
)


def create_order_v2(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    body = object_body(request)
    required(request, *_ORDER_REQUIRED)
    number = str(body["orderNumber"])
    if len(number) > 50:
        raise SimError(1600300, "Param error: orderNumber is longer than 50")
    if number in sim.order_numbers:
        raise SimError(1603003, "The order already exists, please do not create it again")
    if not isinstance(body["products"], list):
        raise SimError(1600300, "Param error: products must be a list")
    lines = []
    for line in body["products"]:
        vid = str(line.get("vid") or "")
        if not vid and line.get("sku"):
            found = sim.find_variant_by_sku(str(line["sku"]))
            vid = found[1].vid if found else ""
        if not vid:
            raise SimError(1602000, "variant not found")
        lines.append({**line, "vid": vid})
    options = freight_options(sim, str(body["fromCountryCode"]), str(body["shippingCountryCode"]), lines)
    option = next((o for o in options if o["logisticName"] == body["logisticName"]), None)
    if option is None:
        raise SimError(1605001, "logistic invalid, please use a logisticName returned by freight calculation")
    product_amount = Decimal(0)
    for line in lines:
        _product, variant = variant_on_sale(sim, line["vid"])
        if sum(variant.stock.values()) < line["quantity"]:
            raise SimError(1603102, f"inventory deduction failed for {variant.vid}")
        product_amount += variant.price * line["quantity"]
    pay_type = body.get("payType")
    is_sandbox = body.get("isSandbox") in (1, "1", True)
    postage = Decimal(str(option["logisticPrice"]))
    if pay_type == 2 and not is_sandbox and product_amount + postage > sim.balance:
        raise SimError(1604000, "Balance is insufficient")
    cj_id = f"{2409011200000000000 + sim.next_order_seq}"
    sim.next_order_seq += 1
    now = sim.now()
    order = SimOrder(
        cj_order_id=cj_id,
        order_number=number,
        status="CREATED",
        body=body,
        lines=lines,
        logistic_name=str(body["logisticName"]),
        from_country=str(body["fromCountryCode"]),
        product_amount=product_amount,
        postage_amount=postage,
        created_at=now,
        is_sandbox=is_sandbox,
        status_changed_at=now,
        history=["CREATED"],
    )
    for line in lines:
        _deduct_stock(sim, line["vid"], line["quantity"], order.from_country)
    sim.orders[cj_id] = order
    sim.order_numbers[number] = cj_id
    sim.stats["orders_received"] += 1
    if pay_type == 2:
        if not is_sandbox:
            sim.balance -= order.order_amount
        order.paid_at = now
        set_order_status(sim, order, "UNSHIPPED")
    pay_url = f"https://pay.example.test/cj/{cj_id}" if pay_type in (None, 1) else ""
    return {
        "orderId": cj_id,
        "orderNumber": number,
        "shipmentOrderId": "",
        "postageAmount": float(postage),
        "productAmount": float(product_amount),
        "productOriginalAmount": float(product_amount),
        "actualPayment": float(order.order_amount),
        "orderOriginalAmount": float(order.order_amount),
        "cjPayUrl": pay_url,
        "orderAmount": float(order.order_amount),
        "logisticsMiss": False,
        "orderStatus": order.status,
        "productInfoList": [
            {
                "storeLineItemId": line.get("storeLineItemId", ""),
                "lineItemId": f"li-{cj_id}-{index}",
                "variantId": line["vid"],
                "quantity": line["quantity"],
                "isGroup": False,
                "subOrderProducts": [],
            }
            for index, line in enumerate(lines, start=1)
        ],
        "interceptOrderReasons": [],
    }


def _deduct_stock(sim: Simulator, vid: str, quantity: int, prefer_country: str) -> None:
    _product, variant = sim.find_variant(vid)  # type: ignore[misc]
    countries = [prefer_country, *[c for c in variant.stock if c != prefer_country]]
    left = quantity
    for country in countries:
        take = min(left, variant.stock.get(country, 0))
        if take:
            variant.stock[country] -= take
            left -= take
    if sim.pusher is not None:
        sim.pusher.stock_changed(variant)


def set_order_status(sim: Simulator, order: SimOrder, status: str) -> None:
    """Move an order and push ORDER (and LOGISTIC once shipped) webhooks."""
    order.status = status
    order.status_changed_at = sim.now()
    order.history.append(status)
    if status == "SHIPPED" and not order.track_number:
        order.track_number = f"CJPKSIM{order.cj_order_id[-9:]}YQ"
    if sim.pusher is not None:
        sim.pusher.order_changed(order)


def order_json(sim: Simulator, order: SimOrder) -> dict[str, Any]:
    body = order.body
    return {
        "orderId": order.cj_order_id,
        "orderNum": order.order_number,
        "cjOrderId": order.cj_order_id if order.status != "CREATED" else "",
        "platformOrderId": order.order_number,
        "cjOrderCode": f"CJSIM{order.cj_order_id[-10:]}",
        "fromCountryCode": order.from_country,
        "shippingCountryCode": body.get("shippingCountryCode"),
        "shippingProvince": body.get("shippingProvince"),
        "shippingCity": body.get("shippingCity"),
        "shippingAddress": body.get("shippingAddress"),
        "shippingCustomerName": body.get("shippingCustomerName"),
        "shippingPhone": body.get("shippingPhone", ""),
        "remark": body.get("remark", ""),
        "logisticName": order.logistic_name,
        "trackNumber": order.track_number or None,
        "trackingUrl": f"https://track.example.test/{order.track_number}" if order.track_number else None,
        "orderWeight": 0,
        "orderAmount": float(order.order_amount),
        "orderStatus": order.status,
        "createDate": sim.order_date(order.created_at),
        "paymentDate": sim.order_date(order.paid_at),
        "storeCreateDate": sim.order_date(order.created_at),
        "productAmount": float(order.product_amount),
        "postageAmount": float(order.postage_amount),
        "isComplete": 1,
        "isSandbox": 1 if order.is_sandbox else 0,
        "storageId": "",
        "storageName": "",
        "productList": [
            {
                "vid": line["vid"],
                "quantity": line["quantity"],
                "storeLineItemId": line.get("storeLineItemId", ""),
                "lineItemId": f"li-{order.cj_order_id}-{index}",
            }
            for index, line in enumerate(order.lines, start=1)
        ],
    }


def _order(sim: Simulator, request: SimRequest, *, not_found_code: int = 1603100) -> SimOrder:
    order_id = request.field("orderId")
    if not order_id:
        raise SimError(16900403 if not_found_code != 1600300 else 1600300, "orderId must be not empty")
    order = sim.find_order(str(order_id))
    if order is None:
        raise SimError(not_found_code, "order not found")
    return order


def order_detail(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    if len(request.args("features")) > 20:
        raise SimError(1600300, "The maximum number of features is 20")
    return order_json(sim, _order(sim, request, not_found_code=1600300))


def order_list(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    page = int_arg(request, "pageNum", 1, 1, 10_000)
    size = int_arg(request, "pageSize", 20, 1, 100)
    status = request.arg("status")
    if status and status not in (*ORDER_STATUSES, "OTHER"):
        raise SimError(1600300, "Param error: unknown status")
    ids = set(request.args("orderIds"))
    orders = list(sim.orders.values())
    if status:
        orders = [order for order in orders if order.status == status]
    if ids:
        orders = [o for o in orders if o.cj_order_id in ids or o.order_number in ids]
    chunk = orders[(page - 1) * size : page * size]
    return {"pageNum": page, "pageSize": size, "total": len(orders), "list": [order_json(sim, o) for o in chunk]}


def confirm_order(sim: Simulator, request: SimRequest) -> str:
    order = _order(sim, request)
    if order.status not in ("CREATED", "IN_CART"):
        raise SimError(1603001, f"order confirm failed: order is {order.status}")
    set_order_status(sim, order, "UNPAID")
    return order.cj_order_id


def delete_order(sim: Simulator, request: SimRequest) -> str:
    order = _order(sim, request)
    if order.status in ("SHIPPED", "DELIVERED"):
        raise SimError(1603002, "order delete failed: order already shipped")
    set_order_status(sim, order, "CANCELLED")
    return order.cj_order_id


def pay_balance(sim: Simulator, request: SimRequest) -> None:
    object_body(request)
    order = _order(sim, request)
    if order.status != "UNPAID":
        raise SimError(1603101, f"order payment failed: order is {order.status}")
    if not order.is_sandbox:
        if order.order_amount > sim.balance:
            raise SimError(1604000, "Balance is insufficient")
        sim.balance -= order.order_amount
    order.paid_at = sim.now()
    set_order_status(sim, order, "UNSHIPPED")
    return None


def get_balance(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    return {"amount": float(sim.balance), "freezeAmount": 0.0, "noWithdrawalAmount": 0.0}
