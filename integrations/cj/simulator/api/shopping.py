"""CJ's Shopping section: orders (create, detail, list, confirm, delete) and their payment.

Payment from the account balance, as CJ's "Orders Synchronization Processing" page documents it
for CJ logistics: createOrderV2 (payType 3) -> `addCart` -> `addCartConfirm` (a shipment,
`shipmentsId`) -> `saveGenerateParentOrder` (the parent order's `payId`) -> `payBalanceV2`; also
payType 2 at creation, the older one-order `payBalance` (after `confirmOrder`) and `getBalance`.
Refusals as CJ's error table has them: 1604000 balance insufficient, 1604001 balance payment
temporarily restricted (pay in MyCJ), 1603101 order payment failed (paid already, cancelled).
None of the payment endpoints is in CJ's points table: they cost no points.
"""

from decimal import Decimal
from typing import Any

from integrations.cj.simulator.api.logistic import freight_options
from integrations.cj.simulator.api.product import variant_on_sale
from integrations.cj.simulator.api.wire import SimRequest, int_arg, object_body, required
from integrations.cj.simulator.state import SimError, SimOrder, SimShipment, Simulator

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
    if pay_type == 2 and not is_sandbox and sim.balance_restricted:
        raise SimError(1604001, "Balance payment is temporarily restricted, please pay in MyCJ")
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


# --- payment ------------------------------------------------------------------------------------
def _order_ids(request: SimRequest) -> list[str]:
    body = object_body(request)
    required(request, "cjOrderIdList")
    ids = body["cjOrderIdList"]
    if not isinstance(ids, list) or not all(isinstance(value, str | int) for value in ids):
        raise SimError(1600300, "Param error: cjOrderIdList must be a list of order ids")
    if len(ids) > 200:
        raise SimError(1600300, "Param error: cjOrderIdList holds at most 200 ids")
    return [str(value) for value in ids]


def _find(sim: Simulator, order_id: str) -> SimOrder:
    order = sim.orders.get(order_id)  # CJ's order ids only: the cart does not know our numbers
    if order is None:
        raise SimError(1603100, f"order not found: {order_id}")
    return order


def add_cart(sim: Simulator, request: SimRequest) -> bool:
    """CREATED orders go into the cart (IN_CART); an order already there stays; any other refuses the call."""
    orders = [_find(sim, order_id) for order_id in _order_ids(request)]
    for order in orders:
        if order.status not in ("CREATED", "IN_CART"):
            raise SimError(1600300, f"order {order.cj_order_id} cannot be added to the cart: it is {order.status}")
    for order in orders:
        if order.status == "CREATED":
            set_order_status(sim, order, "IN_CART")
    return True


def add_cart_confirm(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    """Confirm orders in the cart: they become UNPAID and form one shipment; others are intercepted."""
    orders = [_find(sim, order_id) for order_id in _order_ids(request)]
    confirmed = [order for order in orders if order.status == "IN_CART"]
    intercepted = [
        {"orderId": order.cj_order_id, "message": f"order is {order.status}, not in the cart"}
        for order in orders
        if order.status != "IN_CART"
    ]
    shipment_id = ""
    if confirmed:
        shipment_id = f"SO{2409010000000000 + sim.next_shipment_seq}"
        sim.next_shipment_seq += 1
        sim.shipments[shipment_id] = SimShipment(
            shipment_order_id=shipment_id, order_ids=[o.cj_order_id for o in confirmed]
        )
        for order in confirmed:
            order.shipment_order_id = shipment_id
            set_order_status(sim, order, "UNPAID")
    return {
        "successCount": len(confirmed),
        "submitSuccess": not intercepted,
        "shipmentsId": shipment_id,
        "result": not intercepted,
        "interceptOrders": intercepted,
    }


def _shipment(sim: Simulator, request: SimRequest) -> SimShipment:
    object_body(request)
    required(request, "shipmentOrderId")
    shipment = sim.shipments.get(str(request.field("shipmentOrderId")))
    if shipment is None:
        raise SimError(1600300, "Param error: shipmentOrderId not found")
    return shipment


def save_generate_parent_order(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    """The parent order of a shipment and its payId (the same payId when asked again)."""
    shipment = _shipment(sim, request)
    if not shipment.pay_id:
        shipment.pay_id = f"PAY{shipment.shipment_order_id[2:]}"
    return {"shipmentOrderId": shipment.shipment_order_id, "payId": shipment.pay_id}


def _pay(sim: Simulator, orders: list[SimOrder]) -> None:
    """Deduct the orders' amount from the balance and move them to UNSHIPPED, or refuse."""
    if sim.balance_restricted:
        raise SimError(1604001, "Balance payment is temporarily restricted, please pay in MyCJ")
    for order in orders:
        if order.status != "UNPAID":
            raise SimError(1603101, f"order payment failed: order {order.cj_order_id} is {order.status}")
    amount = sum((order.order_amount for order in orders if not order.is_sandbox), Decimal(0))
    if amount > sim.balance:
        raise SimError(1604000, "Balance is insufficient")
    sim.balance -= amount
    now = sim.now()
    for order in orders:
        order.paid_at = now
        set_order_status(sim, order, "UNSHIPPED")


def pay_balance_v2(sim: Simulator, request: SimRequest) -> None:
    """Pay a shipment's parent order (`shipmentOrderId` + `payId`) from the balance."""
    shipment = _shipment(sim, request)
    required(request, "payId")
    if not shipment.pay_id or str(request.field("payId")) != shipment.pay_id:
        raise SimError(1600300, "Param error: payId does not belong to this shipmentOrderId")
    if shipment.paid_at is not None:
        raise SimError(1603101, "order payment failed: the order has been paid")
    _pay(sim, [sim.orders[order_id] for order_id in shipment.order_ids])
    shipment.paid_at = sim.now()
    return None


def pay_balance(sim: Simulator, request: SimRequest) -> None:
    """The older one-order payment (`orderId`, after confirmOrder): UNPAID -> UNSHIPPED."""
    object_body(request)
    required(request, "orderId")
    order = sim.find_order(str(request.field("orderId")))
    if order is None:
        raise SimError(1603100, "order not found")
    _pay(sim, [order])
    return None


def get_balance(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    return {"amount": float(sim.balance), "freezeAmount": 0.0, "noWithdrawalAmount": 0.0}
