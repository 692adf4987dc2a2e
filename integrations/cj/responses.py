"""CJ's answers (the envelope's `data`, camelCase) parsed into the frozen dataclasses of `types`.

The one place where CJ's response field names are mapped. Every `parse_*` function takes the
decoded `data` of one endpoint and returns dataclasses from `integrations.cj.types`; it raises
ParseError when a required field is missing or malformed. Parsing is defensive: prices and weights
may be numbers, strings or ranges ("2.35-2.60", "2.09 -- 7.46"); ids are kept as strings; missing
optional fields become None. The figures we store and sell by (costs, prices, weights, stock) are
read with the bounded coercions: one that is not a finite number in its sane range raises
ImplausibleValue (a ParseError), so the call fails as permanent instead of writing it.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from integrations.cj.coercion import (
    ImplausibleValue,
    ParseError,
    optional_str,
    to_amount_range,
    to_count,
    to_datetime,
    to_decimal,
    to_fee,
    to_int,
    to_list,
    to_str,
    to_weight_range,
)
from integrations.cj.types import (
    Balance,
    CartConfirmation,
    Category,
    CreatedOrder,
    DecimalRange,
    FreightOption,
    Inventory,
    OrderDetail,
    ParentOrder,
    Product,
    ProductPage,
    ProductSummary,
    TokenPair,
    TrackInfo,
    Variant,
    WarehouseStock,
)

__all__ = ["ImplausibleValue", "ParseError"]  # defined with the coercions, raised by every parser


def require(data: Mapping[str, Any], key: str) -> Any:
    """`data[key]`; ParseError when it is missing, null or ""."""
    value = data.get(key)
    if value in (None, ""):
        raise ParseError(f"missing field {key!r}")
    return value


def split_key(value: Any) -> tuple[str, ...]:
    """CJ's option keys ("Black-M" or a JSON list) as a tuple of names."""
    text = to_str(value).strip()
    if not text:
        return ()
    listed = to_list(text)
    if listed:
        return tuple(str(item) for item in listed)
    return tuple(part for part in text.split("-") if part)


# --- auth ---------------------------------------------------------------------------------------
def parse_token_pair(data: Mapping[str, Any], *, open_id: str | None = None) -> TokenPair:
    """getAccessToken / refreshAccessToken `data` (refresh carries no openId: pass the known one)."""
    access_expires = to_datetime(require(data, "accessTokenExpiryDate"))
    refresh_expires = to_datetime(require(data, "refreshTokenExpiryDate"))
    if access_expires is None or refresh_expires is None:
        raise ParseError("token expiry dates are not dates")
    return TokenPair(
        access_token=to_str(require(data, "accessToken")),
        access_token_expires_at=access_expires,
        refresh_token=to_str(require(data, "refreshToken")),
        refresh_token_expires_at=refresh_expires,
        open_id=optional_str(data.get("openId")) or open_id,
    )


# --- products -----------------------------------------------------------------------------------
def parse_product_page(data: Mapping[str, Any]) -> ProductPage:
    """`product/listV2` data: {pageSize, pageNumber, totalRecords, totalPages, content:[{productList}]}."""
    items: list[ProductSummary] = []
    for block in data.get("content") or ():
        for item in block.get("productList") or ():
            items.append(parse_product_summary(item))
    return ProductPage(
        products=tuple(items),
        page=to_int(data.get("pageNumber"), 1),
        size=to_int(data.get("pageSize"), len(items)),
        total_records=to_int(data.get("totalRecords")),
        total_pages=to_int(data.get("totalPages")),
    )


def parse_my_product_page(data: Mapping[str, Any]) -> ProductPage:
    """`product/myProduct/query` data: listV2's paging block with the items directly in `content`
    (`productId`, `nameEn`, `sku`, `bigImage`, `sellPrice`)."""
    items = []
    for item in data.get("content") or ():
        items.append(parse_product_summary({**item, "id": item.get("productId") or item.get("id")}))
    return ProductPage(
        products=tuple(items),
        page=to_int(data.get("pageNumber"), 1),
        size=to_int(data.get("pageSize"), len(items)),
        total_records=to_int(data.get("totalRecords")),
        total_pages=to_int(data.get("totalPages")),
    )


def parse_product_summary(item: Mapping[str, Any]) -> ProductSummary:
    """One item of `product/listV2` (sellPrice, else nowPrice, as the price range).

    An implausible listing price reads as 0-0: the listing only tells a change, so the product's
    detail call (which refuses it) records that one product instead of the page failing.
    """
    try:
        price = to_amount_range(item.get("sellPrice"), field="sellPrice") or to_amount_range(
            item.get("nowPrice"), field="nowPrice"
        )
    except ImplausibleValue:
        price = DecimalRange(low=Decimal(0), high=Decimal(0))
    if price is None:
        raise ParseError(f"product {item.get('id')!r} has no sellPrice")
    inventory = item.get("warehouseInventoryNum")
    return ProductSummary(
        pid=to_str(require(item, "id")),
        name=to_str(item.get("nameEn")),
        sku=to_str(item.get("sku")),
        image=to_str(item.get("bigImage")),
        sell_price=price,
        category_id=optional_str(item.get("categoryId")),
        category_name=optional_str(item.get("threeCategoryName")),
        created_at=to_datetime(item.get("createAt")),
        warehouse_inventory=to_int(inventory) if inventory is not None else None,
    )


def parse_inventories(rows: Iterable[Mapping[str, Any]] | None) -> tuple[Inventory, ...]:
    """`inventories[]` of product/query and queryByVid (both key spellings CJ uses)."""
    return tuple(
        Inventory(
            country_code=to_str(row.get("countryCode")),
            total=to_count(row.get("totalInventory", row.get("totalInventoryNum")), field="totalInventory"),
            cj=to_count(row.get("cjInventory", row.get("cjInventoryNum")), field="cjInventory"),
            factory=to_count(row.get("factoryInventory", row.get("factoryInventoryNum")), field="factoryInventory"),
        )
        for row in rows or ()
    )


def parse_variant(item: Mapping[str, Any]) -> Variant:
    """One variant (`product/variant/queryByVid`, or an item of `product/query` and `variant/query`)."""
    price = to_amount_range(item.get("variantSellPrice"), field="variantSellPrice")
    if price is None:
        raise ParseError(f"variant {item.get('vid')!r} has no variantSellPrice")
    weight = to_weight_range(item.get("variantWeight"), field="variantWeight")
    return Variant(
        vid=to_str(require(item, "vid")),
        pid=to_str(item.get("pid")),
        sku=to_str(item.get("variantSku")),
        name=to_str(item.get("variantNameEn") or item.get("variantName")),
        option_values=split_key(item.get("variantKey")),
        image=to_str(item.get("variantImage")),
        sell_price=price.low,
        weight_grams=weight.high if weight else None,
        inventories=parse_inventories(item.get("inventories")),
    )


def parse_variants(data: Iterable[Mapping[str, Any]] | None) -> tuple[Variant, ...]:
    """`product/variant/query`: the variants of a product."""
    return tuple(parse_variant(item) for item in data or ())


def _images(data: Mapping[str, Any]) -> tuple[str, ...]:
    images: list[str] = []
    for source in (data.get("productImageSet"), data.get("productImage"), data.get("bigImage")):
        listed = to_list(source)
        candidates = listed if listed else ([source] if isinstance(source, str) and source.strip() else [])
        for image in candidates:
            if image and image not in images:
                images.append(str(image))
    return tuple(images)


def parse_product(data: Mapping[str, Any]) -> Product:
    """`product/query` data: the product with its variants (and their inventories when asked)."""
    variants = parse_variants(data.get("variants"))
    try:
        price = to_amount_range(data.get("sellPrice"), field="sellPrice")
    except ImplausibleValue:
        price = None  # the variants' prices, each checked, stand in for it
    if price is None and variants:
        prices = [variant.sell_price for variant in variants]
        price = DecimalRange(low=min(prices), high=max(prices))
    if price is None:
        raise ParseError(f"product {data.get('pid')!r} has no sellPrice")
    name = to_str(data.get("productNameEn"))
    if not name:
        names = to_list(data.get("productName"))
        name = str(names[0]) if names else to_str(data.get("productName"))
    return Product(
        pid=to_str(require(data, "pid")),
        name=name,
        sku=to_str(data.get("productSku")),
        images=_images(data),
        description=to_str(data.get("description")),
        category_id=optional_str(data.get("categoryId")),
        category_name=optional_str(data.get("categoryName")),
        sell_price=price,
        weight_grams=to_weight_range(data.get("productWeight"), field="productWeight"),
        is_on_sale=to_str(data.get("status", "3")) == "3",
        option_names=split_key(data.get("productKeyEn")),
        variants=variants,
    )


def parse_categories(data: Iterable[Mapping[str, Any]] | None) -> tuple[Category, ...]:
    """`product/getCategory`: only third-level nodes carry an id; parents become `parent_names`."""
    categories: list[Category] = []
    for first in data or ():
        first_name = to_str(first.get("categoryFirstName"))
        for second in first.get("categoryFirstList") or ():
            second_name = to_str(second.get("categorySecondName"))
            for third in second.get("categorySecondList") or ():
                categories.append(
                    Category(
                        id=to_str(require(third, "categoryId")),
                        name=to_str(third.get("categoryName")),
                        parent_names=(first_name, second_name),
                    )
                )
    return tuple(categories)


def _warehouse_stock(vid: str, row: Mapping[str, Any]) -> WarehouseStock:
    total = row.get("totalInventoryNum", row.get("totalInventory", row.get("storageNum")))
    return WarehouseStock(
        vid=vid,
        country_code=to_str(row.get("countryCode")),
        area=to_str(row.get("areaEn")),
        total=to_count(total, field="totalInventoryNum"),
        cj=to_count(row.get("cjInventoryNum", row.get("cjInventory")), field="cjInventoryNum"),
        factory=to_count(row.get("factoryInventoryNum", row.get("factoryInventory")), field="factoryInventoryNum"),
    )


def parse_stock_rows(data: Iterable[Mapping[str, Any]] | None, *, vid: str) -> tuple[WarehouseStock, ...]:
    """`product/stock/queryByVid`: one row per warehouse."""
    return tuple(_warehouse_stock(to_str(row.get("vid")) or vid, row) for row in data or ())


def parse_stock_by_pid(data: Mapping[str, Any] | None) -> dict[str, tuple[WarehouseStock, ...]]:
    """`product/stock/getInventoryByPid`: stock rows per vid (area names taken from the pid totals)."""
    data = data or {}
    areas = {to_str(row.get("countryCode")): to_str(row.get("areaEn")) for row in data.get("inventories") or ()}
    result: dict[str, tuple[WarehouseStock, ...]] = {}
    for entry in data.get("variantInventories") or ():
        vid = to_str(require(entry, "vid"))
        rows = []
        for row in entry.get("inventory") or ():
            stock = _warehouse_stock(vid, row)
            if not stock.area:
                stock = WarehouseStock(
                    vid=vid,
                    country_code=stock.country_code,
                    area=areas.get(stock.country_code, ""),
                    total=stock.total,
                    cj=stock.cj,
                    factory=stock.factory,
                )
            rows.append(stock)
        result[vid] = tuple(rows)
    return result


# --- logistics ----------------------------------------------------------------------------------
def parse_freight_options(data: Iterable[Mapping[str, Any]] | None) -> tuple[FreightOption, ...]:
    """`logistic/freightCalculate`: one option per logistic service."""
    options = []
    for row in data or ():
        price = to_fee(row.get("logisticPrice"), field="logisticPrice")
        total = to_fee(row.get("totalPostageFee"), field="totalPostageFee")
        # When CJ sends only one of the two figures, it stands in for the other.
        if price is None:
            if total is None:
                raise ParseError(f"freight option {row.get('logisticName')!r} has no price")
            price = total
        if total is None:
            total = price
        options.append(
            FreightOption(
                logistic_name=to_str(require(row, "logisticName")),
                delivery_days=to_str(row.get("logisticAging")),
                price=price,
                total_price=total,
            )
        )
    return tuple(options)


def parse_track_infos(data: Iterable[Mapping[str, Any]] | None) -> tuple[TrackInfo, ...]:
    """`logistic/trackInfo`: one row per tracking number CJ knows."""
    return tuple(
        TrackInfo(
            tracking_number=to_str(require(row, "trackingNumber")),
            status=to_str(row.get("trackingStatus")),
            delivery_days=optional_str(row.get("deliveryDay")),
            last_mile_carrier=optional_str(row.get("lastMileCarrier")),
            last_track_number=optional_str(row.get("lastTrackNumber")),
        )
        for row in data or ()
    )


# --- orders -------------------------------------------------------------------------------------
def parse_created_order(data: Mapping[str, Any], *, order_number: str) -> CreatedOrder:
    """`shopping/order/createOrderV2` data (our `order_number` when CJ leaves it out)."""
    return CreatedOrder(
        cj_order_id=optional_str(data.get("orderId")),
        order_number=to_str(data.get("orderNumber")) or order_number,
        status=to_str(data.get("orderStatus")) or "CREATED",
        order_amount=to_decimal(data.get("orderAmount")),
        product_amount=to_decimal(data.get("productAmount")),
        postage_amount=to_decimal(data.get("postageAmount")),
        pay_url=optional_str(data.get("cjPayUrl")),
        logistics_miss=bool(data.get("logisticsMiss")),
    )


def parse_order_detail(data: Mapping[str, Any]) -> OrderDetail:
    """`getOrderDetail` data, or one row of `shopping/order/list`."""
    return OrderDetail(
        cj_order_id=to_str(data.get("orderId") or data.get("cjOrderId")),
        order_number=to_str(data.get("orderNum") or data.get("orderNumber") or data.get("platformOrderId")),
        status=to_str(require(data, "orderStatus")),
        logistic_name=optional_str(data.get("logisticName")),
        track_number=optional_str(data.get("trackNumber")),
        tracking_url=optional_str(data.get("trackingUrl")),
        order_amount=to_decimal(data.get("orderAmount")),
        product_amount=to_decimal(data.get("productAmount")),
        created_at=to_datetime(data.get("createDate")),
        paid_at=to_datetime(data.get("paymentDate")),
        is_sandbox=to_int(data.get("isSandbox")) == 1,
    )


def parse_order_list(data: Mapping[str, Any] | None) -> tuple[OrderDetail, ...]:
    """`shopping/order/list`: the rows of one page."""
    return tuple(parse_order_detail(row) for row in (data or {}).get("list") or ())


# --- payment ------------------------------------------------------------------------------------
def parse_cart_confirmation(data: Mapping[str, Any]) -> CartConfirmation:
    """`shopping/order/addCartConfirm` data."""
    intercepted = tuple(
        to_str(row.get("message") or row.get("orderId")) if isinstance(row, Mapping) else to_str(row)
        for row in to_list(data.get("interceptOrders"))
    )
    return CartConfirmation(
        success_count=to_int(data.get("successCount")),
        submit_success=data.get("submitSuccess") is True,
        shipment_order_id=to_str(data.get("shipmentsId") or data.get("shipmentOrderId")),
        intercepted=intercepted,
    )


def parse_parent_order(data: Mapping[str, Any]) -> ParentOrder:
    """`shopping/order/saveGenerateParentOrder` data: the shipment and its payId."""
    return ParentOrder(
        shipment_order_id=to_str(require(data, "shipmentOrderId")), pay_id=to_str(require(data, "payId"))
    )


def parse_balance(data: Mapping[str, Any]) -> Balance:
    """`shopping/pay/getBalance` data (USD): amount available, frozen, bonus (not withdrawable)."""

    def cents(name: str) -> Decimal:
        value = to_fee(data.get(name), field=name)  # CJ sends numbers (120.5): kept to the cent
        return (value or Decimal(0)).quantize(Decimal("0.01"))

    require(data, "amount")
    return Balance(amount=cents("amount"), frozen=cents("freezeAmount"), bonus=cents("noWithdrawalAmount"))
