"""What we send to CJ: our arguments and dataclasses as CJ's query parameters and JSON bodies.

The one place where CJ's request field names are mapped (the answers are mapped in
`integrations.cj.responses`). Pure functions: no HTTP, no validation beyond what CJ's names need.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from integrations.cj.types import OrderLine, OrderRequest


# --- authentication -----------------------------------------------------------------------------
def login_body(*, api_key: str) -> dict[str, Any]:
    """The `authentication/getAccessToken` body."""
    return {"apiKey": api_key}


def refresh_body(*, refresh_token: str) -> dict[str, Any]:
    """The `authentication/refreshAccessToken` body."""
    return {"refreshToken": refresh_token}


# --- product ------------------------------------------------------------------------------------
def product_list_params(
    *,
    page: int,
    size: int,
    keyword: str | None,
    category_id: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    country_code: str | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
) -> dict[str, Any]:
    """The `product/listV2` query (only the filters given; prices are CJ's sell price in USD)."""
    params: dict[str, Any] = {"page": page, "size": size}
    if keyword:
        params["keyWord"] = keyword
    if category_id:
        params["categoryId"] = category_id
    if country_code:
        params["countryCode"] = country_code.upper()
    if min_price is not None:
        params["startSellPrice"] = str(min_price)
    if max_price is not None:
        params["endSellPrice"] = str(max_price)
    if created_from:
        params["timeStart"] = epoch_ms(created_from)
    if created_to:
        params["timeEnd"] = epoch_ms(created_to)
    return params


def product_query_params(
    *, pid: str | None, product_sku: str | None, variant_sku: str | None, with_inventory: bool
) -> dict[str, Any]:
    """The `product/query` query by exactly one of pid, product SKU or variant SKU.

    Raises ValueError when not exactly one of them is given.
    """
    keys = {"pid": pid, "productSku": product_sku, "variantSku": variant_sku}
    given = {key: value for key, value in keys.items() if value}
    if len(given) != 1:
        raise ValueError("get_product takes exactly one of pid, product_sku, variant_sku")
    params: dict[str, Any] = dict(given)
    if with_inventory:
        params["features"] = ["enable_inventory"]
    return params


def variant_params(*, vid: str) -> dict[str, Any]:
    """The `product/variant/queryByVid` query, with the variant's inventory."""
    return {"vid": vid, "features": ["enable_inventory"]}


# --- logistic -----------------------------------------------------------------------------------
def freight_calculate_body(
    *, from_country_code: str, to_country_code: str, zip: str, lines: Sequence[OrderLine]
) -> dict[str, Any]:
    """The `logistic/freightCalculate` body."""
    return {
        "startCountryCode": from_country_code,
        "endCountryCode": to_country_code,
        "zip": zip,
        "products": [{"vid": line.vid, "quantity": line.quantity} for line in lines],
    }


def track_params(*, track_numbers: Sequence[str]) -> dict[str, Any]:
    """The `logistic/trackInfo` query."""
    return {"trackNumber": list(track_numbers)}


# --- shopping -----------------------------------------------------------------------------------
def order_create_body(order: OrderRequest, *, default_pay_type: int | None) -> dict[str, Any]:
    """The `shopping/order/createOrderV2` body for an `OrderRequest` (its payType, else the default)."""
    body: dict[str, Any] = {
        "orderNumber": order.order_number,
        "shippingZip": order.shipping_zip,
        "shippingCountryCode": order.shipping_country_code,
        "shippingCountry": order.shipping_country,
        "shippingProvince": order.shipping_province,
        "shippingCity": order.shipping_city,
        "shippingPhone": order.shipping_phone,
        "shippingCustomerName": order.shipping_customer_name,
        "shippingAddress": order.shipping_address,
        "shippingAddress2": order.shipping_address2,
        "email": order.email,
        "remark": order.remark,
        "logisticName": order.logistic_name,
        "fromCountryCode": order.from_country_code,
        "platform": "Api",
        "shopLogisticsType": 2,
        "isSandbox": 1 if order.is_sandbox else 0,
        "products": [
            {"vid": line.vid, "quantity": line.quantity}
            | ({"storeLineItemId": line.store_line_item_id} if line.store_line_item_id else {})
            for line in order.lines
        ],
    }
    pay_type = order.pay_type if order.pay_type is not None else default_pay_type
    if pay_type is not None:
        body["payType"] = pay_type
    return body


def order_id_params(*, order_id: str) -> dict[str, Any]:
    """The query (getOrderDetail) or body (confirmOrder, payBalance) naming one order.

    Raises ValueError for an empty id, so that CJ's 1600300 from getOrderDetail can only mean
    "order not found" (integrations.cj.errors.classify)."""
    if not order_id or not order_id.strip():
        raise ValueError("an order id is required")
    return {"orderId": order_id}


def order_list_params(*, page: int, size: int, status: str | None, order_ids: Sequence[str]) -> dict[str, Any]:
    """The `shopping/order/list` query (only the filters given)."""
    params: dict[str, Any] = {"pageNum": page, "pageSize": size}
    if status:
        params["status"] = status
    if order_ids:
        params["orderIds"] = list(order_ids)
    return params


# --- webhook ------------------------------------------------------------------------------------
def cart_body(*, cj_order_ids: Sequence[str]) -> dict[str, Any]:
    """`addCart` / `addCartConfirm`: CJ's order ids (at most 200)."""
    if not cj_order_ids or len(cj_order_ids) > 200:
        raise ValueError("the cart takes 1-200 CJ order ids")
    return {"cjOrderIdList": [str(value) for value in cj_order_ids]}


def parent_order_body(*, shipment_order_id: str) -> dict[str, Any]:
    return {"shipmentOrderId": shipment_order_id}


def pay_balance_v2_body(*, shipment_order_id: str, pay_id: str) -> dict[str, Any]:
    return {"shipmentOrderId": shipment_order_id, "payId": pay_id}


def webhook_set_body(*, callback_url: str, enable: bool) -> dict[str, Any]:
    """The `webhook/set` body: the same setting for product, stock, order and logistics messages."""
    family = {"type": "ENABLE" if enable else "CANCEL", "callbackUrls": [callback_url]}
    return {"product": family, "stock": family, "order": family, "logistics": family}


def epoch_ms(moment: datetime) -> int:
    """A datetime as CJ's epoch milliseconds (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def my_product_query_params(*, page: int, size: int, keyword: str | None) -> dict[str, Any]:
    """The `product/myProduct/query` query."""
    params: dict[str, Any] = {"pageNumber": page, "pageSize": size}
    if keyword:
        params["keyword"] = keyword
    return params
