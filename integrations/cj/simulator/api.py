"""The CJ endpoints the simulator serves under /api2.0/v1/, as CONTRACT.md documents them.

Each handler takes the `Simulator` (lock held) and the parsed request and returns the envelope's
`data`, or raises `SimError` with CJ's code. `ROUTES` maps endpoint -> (HTTP method, handler,
needs a token, points cost).
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

from integrations.cj.simulator import catalog as cat
from integrations.cj.simulator.state import TOKEN_CACHE_WINDOW, SimError, SimOrder, Simulator

EU = {"DE", "FR", "IT", "ES", "NL", "BE", "AT", "PL", "SE", "IE", "PT", "DK", "FI"}
COUNTRIES = EU | {"US", "GB", "CA", "AU", "CN", "JP", "MX", "BR", "NZ", "CH", "NO"}
ORDER_STATUSES = ("CREATED", "IN_CART", "UNPAID", "UNSHIPPED", "SHIPPED", "DELIVERED", "CANCELLED")
LIFECYCLE = {
    "CREATED": "UNPAID",
    "IN_CART": "UNPAID",
    "UNPAID": "UNSHIPPED",
    "UNSHIPPED": "SHIPPED",
    "SHIPPED": "DELIVERED",
}


@dataclass
class SimRequest:
    method: str
    endpoint: str
    query: dict[str, list[str]]
    body: Any
    token: str | None

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def args(self, name: str) -> list[str]:
        values: list[str] = []
        for value in self.query.get(name, []):
            values.extend(part.strip() for part in value.split(",") if part.strip())
        return values

    def field(self, name: str) -> Any:
        if isinstance(self.body, dict) and name in self.body:
            return self.body[name]
        return self.arg(name)


class AltEnvelope:
    """Data to be sent in the `{success: true, code: 0}` envelope variant."""

    def __init__(self, data: Any) -> None:
        self.data = data


def required(request: SimRequest, *names: str) -> None:
    for name in names:
        value = request.field(name)
        if value is None or value == "" or value == []:
            raise SimError(16900403, f"{name} must not be empty")


def _object_body(request: SimRequest) -> dict[str, Any]:
    if request.body is None:
        raise SimError(16900204, "request body missing")
    if not isinstance(request.body, dict):
        raise SimError(1600300, "Param error: the body must be a JSON object")
    return request.body


# --- auth ---------------------------------------------------------------------------------------
def get_access_token(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    body = _object_body(request)
    required(request, "apiKey")
    if body["apiKey"] != sim.config.api_key:
        raise SimError(1600005, "apiKey is wrong, please check it")
    now = time.time() + sim.clock_offset
    if sim.last_login is not None and now - sim.last_login < sim.config.login_interval:
        sim.stats["throttled"] += 1
        raise sim.throttle_error("Too much request, getAccessToken may be called once every 300 seconds")
    sim.last_login = now
    sim.stats["get_access_token"] += 1
    token = sim.issue_token()
    return {
        "openId": sim.config.open_id,
        "accessToken": token.access_token,
        "accessTokenExpiryDate": sim.cj_date(token.access_expires),
        "refreshToken": token.refresh_token,
        "refreshTokenExpiryDate": sim.cj_date(token.refresh_expires),
        "createDate": sim.cj_date(sim.now()),
    }


def refresh_access_token(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    _object_body(request)
    required(request, "refreshToken")
    now = time.time() + sim.clock_offset
    while sim.refresh_calls and sim.refresh_calls[0] <= now - 60:
        sim.refresh_calls.popleft()
    if len(sim.refresh_calls) >= sim.config.refresh_per_minute:
        sim.stats["throttled"] += 1
        raise sim.throttle_error("Too much request, refreshAccessToken is limited to 5 calls per minute")
    sim.refresh_calls.append(now)
    old = sim.refresh_index.get(str(request.field("refreshToken")))
    if old is None or old.refresh_expires <= sim.now():
        raise SimError(1600003, "Invalid refresh token")
    sim.stats["refresh_access_token"] += 1
    if sim.now() - old.issued_at < TOKEN_CACHE_WINDOW:
        # CJ's 24-hour token cache: the same pair comes back, so a refresh whose answer was lost
        # leaves the client's refresh token valid.
        token = old
        if token.access_expires <= sim.now():
            sim.renew_access_token(token)
    else:
        # A new pair; the previous one stops working: clients must share the new one.
        sim.tokens.pop(old.access_token, None)
        sim.refresh_index.pop(old.refresh_token, None)
        token = sim.issue_token()
    return {
        "accessToken": token.access_token,
        "accessTokenExpiryDate": sim.cj_date(token.access_expires),
        "refreshToken": token.refresh_token,
        "refreshTokenExpiryDate": sim.cj_date(token.refresh_expires),
        "createDate": sim.cj_date(sim.now()),
    }


def logout(sim: Simulator, request: SimRequest) -> bool:
    token = sim.tokens.pop(request.token or "", None)
    if token:
        sim.refresh_index.pop(token.refresh_token, None)
    return True


def setting_get(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    return {
        "openId": sim.config.open_id,
        "openName": "Simulator",
        "openEmail": "simulator@example.test",
        "setting": {"quotaLimits": [], "qpsLimit": sim.config.qps},
        "root": "GENERAL",
        "isSandbox": 0,
    }


# --- products -----------------------------------------------------------------------------------
def _int_arg(request: SimRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.arg(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SimError(1600300, f"Param error: {name} must be a number") from error
    if not low <= value <= high:
        raise SimError(1600300, f"Param error: {name} must be between {low} and {high}")
    return value


def list_v2(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    page = _int_arg(request, "page", 1, 1, 1000)
    size = _int_arg(request, "size", 10, 1, 100)
    keyword = (request.arg("keyWord") or "").lower()
    category = request.arg("categoryId")
    start = _int_arg(request, "timeStart", 0, 0, 2**62)
    end = _int_arg(request, "timeEnd", 0, 0, 2**62)
    products = [product for product in sim.catalog.values() if product.on_sale]
    if keyword:
        products = [p for p in products if keyword in p.name.lower() or keyword in p.sku.lower()]
    if category:
        products = [p for p in products if p.category[0] == category]
    if start:
        products = [p for p in products if p.created_at.timestamp() * 1000 >= start]
    if end:
        products = [p for p in products if p.created_at.timestamp() * 1000 <= end]
    total = len(products)
    chunk = products[(page - 1) * size : page * size]
    return {
        "pageSize": size,
        "pageNumber": page,
        "totalRecords": total,
        "totalPages": (total + size - 1) // size,
        "content": [
            {
                "productList": [cat.product_summary_json(product) for product in chunk],
                "relatedCategoryList": [],
                "keyWord": request.arg("keyWord") or "",
                "keyWordOld": request.arg("keyWord") or "",
            }
        ],
    }


def _product_for(sim: Simulator, request: SimRequest) -> cat.SimProduct:
    pid, product_sku, variant_sku = request.arg("pid"), request.arg("productSku"), request.arg("variantSku")
    if sum(1 for value in (pid, product_sku, variant_sku) if value) != 1:
        raise SimError(1600300, "Param error: one of pid, productSku, variantSku is required")
    product = None
    if pid:
        product = sim.catalog.get(pid)
    elif product_sku:
        product = next((p for p in sim.catalog.values() if p.sku == product_sku), None)
    else:
        found = sim.find_variant_by_sku(variant_sku or "")
        product = found[0] if found else None
    if product is None:
        raise SimError(1602001, "product not found")
    if not product.on_sale:
        raise SimError(1602002, "Product has been removed from shelves")
    return product


def product_query(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    product = _product_for(sim, request)
    features = request.args("features")
    return cat.product_json(product, with_inventory="enable_inventory" in features, country=request.arg("countryCode"))


def variant_query(sim: Simulator, request: SimRequest) -> list[dict[str, Any]]:
    product = _product_for(sim, request)
    return [cat.variant_json(product, v, with_inventory=False) for v in product.variants if v.on_sale]


def _variant(sim: Simulator, vid: str | None) -> tuple[cat.SimProduct, cat.SimVariant]:
    if not vid:
        raise SimError(16900403, "vid must not be empty")
    found = sim.find_variant(vid)
    if found is None:
        raise SimError(1602000, "variant not found")
    if not found[1].on_sale or not found[0].on_sale:
        raise SimError(1602003, "Variant has been removed from shelves")
    return found


def variant_by_vid(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    product, variant = _variant(sim, request.arg("vid"))
    return cat.variant_json(product, variant, with_inventory="enable_inventory" in request.args("features"))


def stock_by_vid(sim: Simulator, request: SimRequest) -> list[dict[str, Any]]:
    _product, variant = _variant(sim, request.arg("vid"))
    return cat.stock_rows_json(variant)


def inventory_by_pid(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    pid = request.arg("pid")
    if not pid:
        raise SimError(16900403, "pid must not be empty")
    product = sim.catalog.get(pid)
    if product is None:
        raise SimError(1602001, "product not found")
    return cat.inventory_by_pid_json(product)


def categories(sim: Simulator, request: SimRequest) -> list[dict[str, Any]]:
    return cat.categories_json()


def warehouses(sim: Simulator, request: SimRequest) -> AltEnvelope:
    return AltEnvelope(
        [
            {"areaId": area_id, "areaEn": name, "countryCode": code, "nameEn": country, "valueEn": name, "disabled": 0}
            for code, (area_id, name, country) in cat.WAREHOUSES.items()
        ]
    )


# --- logistics ----------------------------------------------------------------------------------
def freight_options(
    sim: Simulator, from_country: str, to_country: str, lines: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The shipping options for a destination and its lines (deterministic)."""
    for code in (from_country, to_country):
        if code not in COUNTRIES:
            raise SimError(1605002, f"country code not found: {code}")
    weight = Decimal(0)
    for line in lines:
        _product, variant = _variant(sim, str(line.get("vid") or ""))
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
    body = _object_body(request)
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


# --- orders -------------------------------------------------------------------------------------
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
    body = _object_body(request)
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
        _product, variant = _variant(sim, line["vid"])
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
    page = _int_arg(request, "pageNum", 1, 1, 10_000)
    size = _int_arg(request, "pageSize", 20, 1, 100)
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
    _object_body(request)
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


# --- webhooks -----------------------------------------------------------------------------------
WEBHOOK_FAMILIES = ("product", "stock", "order", "logistics")


def webhook_set(sim: Simulator, request: SimRequest) -> bool:
    body = _object_body(request)
    families = {key: value for key, value in body.items() if key in WEBHOOK_FAMILIES}
    if not families:
        raise SimError(16900403, "product, stock, order or logistics must not be empty")
    updates: dict[str, str | None] = {}
    for family, setting in families.items():
        if not isinstance(setting, dict) or setting.get("type") not in ("ENABLE", "ALL", "CANCEL"):
            raise SimError(1600300, f"Param error: {family}.type must be ENABLE or CANCEL")
        urls = setting.get("callbackUrls") or []
        if setting["type"] == "CANCEL":
            updates[family] = None
            continue
        if not isinstance(urls, list) or len(urls) != 1:
            raise SimError(1600300, "Param error: exactly one callback URL is supported")
        url = str(urls[0])
        parsed = urlparse(url)
        if not sim.config.insecure_webhooks:
            if parsed.hostname in ("localhost", "127.0.0.1", "::1"):
                raise SimError(1607001, "Please do not use domain names such as localhost, 127.0.0.1")
            if parsed.scheme != "https":
                raise SimError(1607002, "The callback URL must start with https://")
        elif parsed.scheme not in ("http", "https"):
            raise SimError(1607002, "The callback URL must start with https://")
        updates[family] = url
    for family, url in updates.items():
        if url is None:
            sim.webhooks.pop(family, None)
        else:
            sim.webhooks[family] = url
    if sim.pusher is not None:
        sim.pusher.resume()
    return True


Handler = Callable[[Simulator, SimRequest], Any]
# endpoint -> (method, handler, needs a token, points)
ROUTES: dict[str, tuple[str, Handler, bool, int]] = {
    "authentication/getAccessToken": ("POST", get_access_token, False, 0),
    "authentication/refreshAccessToken": ("POST", refresh_access_token, False, 0),
    "authentication/logout": ("POST", logout, True, 0),
    "setting/get": ("GET", setting_get, True, 0),
    "product/listV2": ("GET", list_v2, True, 50),
    "product/query": ("GET", product_query, True, 10),
    "product/variant/query": ("GET", variant_query, True, 10),
    "product/variant/queryByVid": ("GET", variant_by_vid, True, 10),
    "product/stock/queryByVid": ("GET", stock_by_vid, True, 10),
    "product/stock/getInventoryByPid": ("GET", inventory_by_pid, True, 0),
    "product/getCategory": ("GET", categories, True, 0),
    "product/globalWarehouseList": ("GET", warehouses, True, 0),
    "logistic/freightCalculate": ("POST", freight_calculate, True, 0),
    "logistic/trackInfo": ("GET", track_info, True, 0),
    "shopping/order/createOrderV2": ("POST", create_order_v2, True, 0),
    "shopping/order/getOrderDetail": ("GET", order_detail, True, 0),
    "shopping/order/list": ("GET", order_list, True, 0),
    "shopping/order/confirmOrder": ("PATCH", confirm_order, True, 0),
    "shopping/order/deleteOrder": ("DELETE", delete_order, True, 0),
    "shopping/pay/payBalance": ("POST", pay_balance, True, 0),
    "shopping/pay/getBalance": ("GET", get_balance, True, 0),
    "webhook/set": ("POST", webhook_set, True, 0),
}


def decode_body(raw: bytes) -> Any:
    """The JSON body or None when empty; SimError 16900205 when it is not JSON."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as error:
        raise SimError(16900205, "The request body is not in a correct JSON format") from error
