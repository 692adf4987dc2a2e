"""Typed results of the CJ client: frozen dataclasses with our names, Decimal money, string ids.

CJ's camelCase is mapped to these in exactly one place per direction: answers in
`integrations/cj/responses.py`, requests in `integrations/cj/request_bodies.py`.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    refresh_token_expires_at: datetime
    open_id: str | None = None


@dataclass(frozen=True)
class DecimalRange:
    """A price or weight CJ sends as "2.35", 2.35, "2.35-2.60" or "2.09 -- 7.46"."""

    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    parent_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProductSummary:
    """One item of `product/listV2`."""

    pid: str
    name: str
    sku: str
    image: str
    sell_price: DecimalRange
    category_id: str | None
    category_name: str | None
    created_at: datetime | None
    warehouse_inventory: int | None


@dataclass(frozen=True)
class ProductPage:
    products: tuple[ProductSummary, ...]
    page: int
    size: int
    total_records: int
    total_pages: int


@dataclass(frozen=True)
class Inventory:
    """Stock of one variant in one country's warehouses."""

    country_code: str
    total: int
    cj: int
    factory: int


@dataclass(frozen=True)
class Variant:
    vid: str
    pid: str
    sku: str
    name: str
    option_values: tuple[str, ...]  # from variantKey "Black-M" -> ("Black", "M")
    image: str
    sell_price: Decimal
    weight_grams: Decimal | None
    inventories: tuple[Inventory, ...] = ()

    @property
    def stock(self) -> int | None:
        """Total stock over all warehouses, or None when CJ sent no inventory."""
        return sum(inventory.total for inventory in self.inventories) if self.inventories else None


@dataclass(frozen=True)
class Product:
    """`product/query`: a product with its variants."""

    pid: str
    name: str
    sku: str
    images: tuple[str, ...]
    description: str
    category_id: str | None
    category_name: str | None
    sell_price: DecimalRange
    weight_grams: DecimalRange | None
    is_on_sale: bool
    option_names: tuple[str, ...]  # from productKeyEn "Color-Size" -> ("Color", "Size")
    variants: tuple[Variant, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class WarehouseStock:
    """One row of `product/stock/queryByVid` / `getInventoryByPid`."""

    vid: str
    country_code: str
    area: str
    total: int
    cj: int
    factory: int


@dataclass(frozen=True)
class FreightOption:
    logistic_name: str
    delivery_days: str  # CJ's logisticAging, e.g. "2-5"
    price: Decimal  # logisticPrice, USD
    total_price: Decimal  # totalPostageFee (postage + taxes + fees), USD


@dataclass(frozen=True)
class OrderLine:
    vid: str
    quantity: int
    store_line_item_id: str | None = None


@dataclass(frozen=True)
class OrderRequest:
    """What `shopping/order/createOrderV2` needs."""

    order_number: str
    shipping_country_code: str
    shipping_country: str
    shipping_province: str
    shipping_city: str
    shipping_address: str
    shipping_customer_name: str
    logistic_name: str
    from_country_code: str
    lines: tuple[OrderLine, ...]
    shipping_address2: str = ""
    shipping_zip: str = ""
    shipping_phone: str = ""
    email: str = ""
    remark: str = ""
    pay_type: int | None = None
    is_sandbox: bool = False


@dataclass(frozen=True)
class CreatedOrder:
    cj_order_id: str | None  # may be missing until CJ connects the order (ORDER_CONNNECTED)
    order_number: str
    status: str
    order_amount: Decimal | None
    product_amount: Decimal | None
    postage_amount: Decimal | None
    pay_url: str | None
    logistics_miss: bool


@dataclass(frozen=True)
class OrderDetail:
    """`shopping/order/getOrderDetail` (also one row of `shopping/order/list`)."""

    cj_order_id: str
    order_number: str
    status: str  # CREATED, IN_CART, UNPAID, UNSHIPPED, SHIPPED, DELIVERED, CANCELLED
    logistic_name: str | None
    track_number: str | None
    tracking_url: str | None
    order_amount: Decimal | None
    product_amount: Decimal | None
    created_at: datetime | None
    paid_at: datetime | None
    is_sandbox: bool = False


@dataclass(frozen=True)
class CartConfirmation:
    """`shopping/order/addCartConfirm`: the confirmed orders form one shipment (`shipmentsId`)."""

    success_count: int
    submit_success: bool
    shipment_order_id: str  # CJ's shipmentsId; "" when nothing was confirmed
    intercepted: tuple[str, ...]  # CJ's messages about the orders it did not confirm


@dataclass(frozen=True)
class ParentOrder:
    """`shopping/order/saveGenerateParentOrder`: what `payBalanceV2` pays."""

    shipment_order_id: str
    pay_id: str


@dataclass(frozen=True)
class Balance:
    """`shopping/pay/getBalance`, USD."""

    amount: Decimal  # available
    frozen: Decimal  # freezeAmount
    bonus: Decimal  # noWithdrawalAmount


@dataclass(frozen=True)
class TrackInfo:
    tracking_number: str
    status: str
    delivery_days: str | None
    last_mile_carrier: str | None
    last_track_number: str | None
