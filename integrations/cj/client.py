"""The CJ API 2.0 client: one public method per CJ endpoint we use, grouped as CJ groups them.

Use `get_client()` (one client per process, built from settings). Every public method maps one
CJ endpoint, takes keyword arguments and returns frozen dataclasses (`integrations.cj.types`).
The request side is mapped in `request_bodies`, the answers in `responses`; the session, tokens,
rate limit, budget, retries and error classification live in `transport.CJTransport`, which also
carries the authentication endpoints (`authenticate`), since every call needs a token.
"""

import os
import threading
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from integrations.cj import request_bodies, responses
from integrations.cj.errors import CJPermanentError
from integrations.cj.transport import CJTransport, ClientConfig
from integrations.cj.types import (
    Balance,
    CartConfirmation,
    Category,
    CreatedOrder,
    FreightOption,
    OrderDetail,
    OrderLine,
    OrderRequest,
    ParentOrder,
    Product,
    ProductPage,
    TrackInfo,
    Variant,
    WarehouseStock,
)

__all__ = ["CJClient", "ClientConfig", "get_client"]


class CJClient(CJTransport):
    """CJ API 2.0 over HTTP. Thread-safe; share one per process (`get_client()`)."""

    # --- product --------------------------------------------------------------------------------
    def list_products(
        self,
        *,
        page: int = 1,
        size: int = 100,
        keyword: str | None = None,
        category_id: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        country_code: str | None = None,
        min_price: Decimal | None = None,
        max_price: Decimal | None = None,
    ) -> ProductPage:
        """One page of `product/listV2` (page 1-1000, size 1-100), optionally by keyword, category,
        ship-from country and sell price range. Discovery: refused below the budget reserve."""
        if not 1 <= page <= 1000 or not 1 <= size <= 100:
            raise ValueError("listV2 takes page 1-1000 and size 1-100")
        params = request_bodies.product_list_params(
            page=page,
            size=size,
            keyword=keyword,
            category_id=category_id,
            created_from=created_from,
            created_to=created_to,
            country_code=country_code,
            min_price=min_price,
            max_price=max_price,
        )
        data = self._call("GET", "product/listV2", params=params)
        return self._parse("product/listV2", responses.parse_product_page, data or {})

    def get_product(
        self,
        *,
        pid: str | None = None,
        product_sku: str | None = None,
        variant_sku: str | None = None,
        with_inventory: bool = True,
    ) -> Product:
        """`product/query` by exactly one of pid, product SKU or variant SKU, with per-variant inventory.

        Raises ValueError unless exactly one key is given, CJNotFoundError for an unknown or removed product.
        """
        params = request_bodies.product_query_params(
            pid=pid, product_sku=product_sku, variant_sku=variant_sku, with_inventory=with_inventory
        )
        data = self._call("GET", "product/query", params=params)
        return self._parse("product/query", responses.parse_product, _object(data, "product/query"))

    def list_variants(self, *, pid: str) -> tuple[Variant, ...]:
        """`product/variant/query`: the variants of a product (no inventory)."""
        data = self._call("GET", "product/variant/query", params={"pid": pid})
        return self._parse("product/variant/query", responses.parse_variants, data or [])

    def get_variant(self, *, vid: str) -> Variant:
        """`product/variant/queryByVid` with inventory. Raises CJNotFoundError for an unknown vid."""
        data = self._call("GET", "product/variant/queryByVid", params=request_bodies.variant_params(vid=vid))
        return self._parse("product/variant/queryByVid", responses.parse_variant, _object(data, "queryByVid"))

    def get_stock_by_vid(self, *, vid: str) -> tuple[WarehouseStock, ...]:
        """`product/stock/queryByVid`: stock of one variant per warehouse."""
        data = self._call("GET", "product/stock/queryByVid", params={"vid": vid})
        return self._parse("product/stock/queryByVid", lambda rows: responses.parse_stock_rows(rows, vid=vid), data)

    def get_stock_by_pid(self, *, pid: str) -> dict[str, tuple[WarehouseStock, ...]]:
        """`product/stock/getInventoryByPid`: stock per warehouse of every variant, keyed by vid."""
        data = self._call("GET", "product/stock/getInventoryByPid", params={"pid": pid})
        return self._parse("product/stock/getInventoryByPid", responses.parse_stock_by_pid, data)

    def add_to_my_product(self, *, pid: str) -> None:
        """`product/addToMyProduct`: put the product on the account's "My Products" (adding twice is harmless)."""
        self._call("POST", "product/addToMyProduct", body={"productId": pid})

    def list_my_products(self, *, page: int = 1, size: int = 100, keyword: str | None = None) -> ProductPage:
        """One page of `product/myProduct/query` (page 1-1000, size 1-100): the account's own products."""
        if not 1 <= page <= 1000 or not 1 <= size <= 100:
            raise ValueError("myProduct/query takes page 1-1000 and size 1-100")
        params = request_bodies.my_product_query_params(page=page, size=size, keyword=keyword)
        data = self._call("GET", "product/myProduct/query", params=params)
        return self._parse("product/myProduct/query", responses.parse_my_product_page, data or {})

    def list_categories(self) -> tuple[Category, ...]:
        """`product/getCategory`: the third-level categories with their parents' names."""
        data = self._call("GET", "product/getCategory")
        return self._parse("product/getCategory", responses.parse_categories, data)

    # --- logistic -------------------------------------------------------------------------------
    def calculate_freight(
        self, *, from_country_code: str, to_country_code: str, zip: str = "", lines: Sequence[OrderLine]
    ) -> tuple[FreightOption, ...]:
        """`logistic/freightCalculate`: shipping options for the lines (a read; retried when transient)."""
        body = request_bodies.freight_calculate_body(
            from_country_code=from_country_code, to_country_code=to_country_code, zip=zip, lines=lines
        )
        data = self._call("POST", "logistic/freightCalculate", body=body)
        return self._parse("logistic/freightCalculate", responses.parse_freight_options, data)

    def track(self, *, track_numbers: Sequence[str]) -> tuple[TrackInfo, ...]:
        """`logistic/trackInfo` for one or more tracking numbers."""
        data = self._call("GET", "logistic/trackInfo", params=request_bodies.track_params(track_numbers=track_numbers))
        return self._parse("logistic/trackInfo", responses.parse_track_infos, data)

    # --- shopping -------------------------------------------------------------------------------
    def create_order(self, *, order: OrderRequest) -> CreatedOrder:
        """`shopping/order/createOrderV2` with our number as `orderNumber`. Sent once, never retried here.

        Raises CJPermanentError (1603003 duplicate number, 1605001 logistic, 1604000 balance,
        CJNotFoundError for an unknown vid) or CJTransientError (timeout: the order may exist;
        look it up with get_order before creating again).
        """
        body = request_bodies.order_create_body(order, default_pay_type=self.config.pay_type)
        data = self._call("POST", "shopping/order/createOrderV2", body=body, idempotent=False)
        return self._parse(
            "shopping/order/createOrderV2",
            lambda value: responses.parse_created_order(value, order_number=order.order_number),
            _object(data, "createOrderV2"),
        )

    def get_order(self, *, order_id: str) -> OrderDetail:
        """`shopping/order/getOrderDetail` by our order number or CJ's id. Raises CJNotFoundError when absent."""
        params = request_bodies.order_id_params(order_id=order_id)
        data = self._call("GET", "shopping/order/getOrderDetail", params=params)
        return self._parse(
            "shopping/order/getOrderDetail", responses.parse_order_detail, _object(data, "getOrderDetail")
        )

    def list_orders(
        self, *, page: int = 1, size: int = 50, status: str | None = None, order_ids: Sequence[str] = ()
    ) -> tuple[OrderDetail, ...]:
        """`shopping/order/list`: one page of orders, optionally by status or CJ ids."""
        params = request_bodies.order_list_params(page=page, size=size, status=status, order_ids=order_ids)
        data = self._call("GET", "shopping/order/list", params=params)
        return self._parse("shopping/order/list", responses.parse_order_list, data)

    def confirm_order(self, *, cj_order_id: str) -> None:
        """`shopping/order/confirmOrder` (PATCH): CREATED -> UNPAID. Not retried by the client."""
        body = request_bodies.order_id_params(order_id=cj_order_id)
        self._call("PATCH", "shopping/order/confirmOrder", body=body, idempotent=False)

    def pay_balance(self, *, cj_order_id: str) -> None:
        """`shopping/pay/payBalance`: pay one confirmed order from the CJ balance (UNPAID -> UNSHIPPED).

        Sent once. Raises CJBalanceInsufficientError (1604000), CJBalanceRestrictedError (1604001),
        CJPaymentFailedError (1603101) or CJTransientError (the payment may have happened: read the order).
        """
        body = request_bodies.order_id_params(order_id=cj_order_id)
        self._call("POST", "shopping/pay/payBalance", body=body, idempotent=False)

    # --- payment: cart -> shipment -> parent order -> payBalanceV2 (CJ's documented flow) ------
    def add_cart(self, *, cj_order_ids: Sequence[str]) -> None:
        """`shopping/order/addCart`: put created orders (CJ ids) into the cart (CREATED -> IN_CART). Sent once."""
        body = request_bodies.cart_body(cj_order_ids=cj_order_ids)
        self._call("POST", "shopping/order/addCart", body=body, idempotent=False)

    def add_cart_confirm(self, *, cj_order_ids: Sequence[str]) -> CartConfirmation:
        """`shopping/order/addCartConfirm`: confirm orders in the cart (-> UNPAID) as one shipment. Sent once."""
        body = request_bodies.cart_body(cj_order_ids=cj_order_ids)
        data = self._call("POST", "shopping/order/addCartConfirm", body=body, idempotent=False)
        endpoint = "shopping/order/addCartConfirm"
        return self._parse(endpoint, responses.parse_cart_confirmation, _object(data, endpoint))

    def save_generate_parent_order(self, *, shipment_order_id: str) -> ParentOrder:
        """`shopping/order/saveGenerateParentOrder`: the shipment's parent order and its payId."""
        body = request_bodies.parent_order_body(shipment_order_id=shipment_order_id)
        data = self._call("POST", "shopping/order/saveGenerateParentOrder", body=body, idempotent=False)
        endpoint = "shopping/order/saveGenerateParentOrder"
        return self._parse(endpoint, responses.parse_parent_order, _object(data, endpoint))

    def pay_balance_v2(self, *, shipment_order_id: str, pay_id: str) -> None:
        """`shopping/pay/payBalanceV2`: pay a parent order from the CJ balance (its orders -> UNSHIPPED).

        Sent once, never retried here. Raises CJBalanceInsufficientError (1604000),
        CJBalanceRestrictedError (1604001), CJPaymentFailedError (1603101), or CJTransientError
        (the payment may have happened: read the order before paying again).
        """
        body = request_bodies.pay_balance_v2_body(shipment_order_id=shipment_order_id, pay_id=pay_id)
        self._call("POST", "shopping/pay/payBalanceV2", body=body, idempotent=False)

    def get_balance(self) -> Balance:
        """`shopping/pay/getBalance`: the account's balance in USD (a read; retried when transient)."""
        data = self._call("GET", "shopping/pay/getBalance")
        return self._parse("shopping/pay/getBalance", responses.parse_balance, _object(data, "getBalance"))

    # --- webhook --------------------------------------------------------------------------------
    def set_webhook(self, *, callback_url: str, enable: bool = True) -> None:
        """`webhook/set`: (un)register `callback_url` for product, stock, order and logistics messages."""
        body = request_bodies.webhook_set_body(callback_url=callback_url, enable=enable)
        self._call("POST", "webhook/set", body=body)


def _object(data: Any, endpoint: str) -> dict[str, Any]:
    """`data` when it is a JSON object; CJPermanentError otherwise (an endpoint that answers one record)."""
    if not isinstance(data, dict):
        raise CJPermanentError("unexpected answer: data is not an object", endpoint=endpoint)
    return data


_client_lock = threading.Lock()
_client: tuple[ClientConfig, int, CJClient] | None = None


def get_client() -> CJClient:
    """The process's CJ client, built from settings (rebuilt when the CJ settings change or after a fork)."""
    global _client
    config = ClientConfig.from_settings()
    with _client_lock:
        # A forked process (RQ work horse) must not share the parent's pooled sockets.
        if _client is None or _client[0] != config or _client[1] != os.getpid():
            _client = (config, os.getpid(), CJClient(config))
        return _client[2]
