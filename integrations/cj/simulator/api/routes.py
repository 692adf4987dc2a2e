"""The simulator's route table: endpoint -> (HTTP method, handler, needs a token, points cost).

Points come from `integrations.cj.points.POINT_COSTS`, the table the client counts with too.
"""

from collections.abc import Callable
from typing import Any

from integrations.cj.points import point_cost
from integrations.cj.simulator.api import authentication, logistic, product, setting, shopping, webhook
from integrations.cj.simulator.api.wire import SimRequest
from integrations.cj.simulator.state import Simulator

Handler = Callable[[Simulator, SimRequest], Any]
# endpoint -> (method, handler, needs a token)
_ROUTES: dict[str, tuple[str, Handler, bool]] = {
    "authentication/getAccessToken": ("POST", authentication.get_access_token, False),
    "authentication/refreshAccessToken": ("POST", authentication.refresh_access_token, False),
    "authentication/logout": ("POST", authentication.logout, True),
    "setting/get": ("GET", setting.setting_get, True),
    "product/listV2": ("GET", product.list_v2, True),
    "product/query": ("GET", product.product_query, True),
    "product/variant/query": ("GET", product.variant_query, True),
    "product/variant/queryByVid": ("GET", product.variant_by_vid, True),
    "product/stock/queryByVid": ("GET", product.stock_by_vid, True),
    "product/stock/getInventoryByPid": ("GET", product.inventory_by_pid, True),
    "product/getCategory": ("GET", product.categories, True),
    "product/addToMyProduct": ("POST", product.add_to_my_product, True),
    "product/myProduct/query": ("GET", product.my_product_query, True),
    "product/globalWarehouseList": ("GET", product.warehouses, True),
    "logistic/freightCalculate": ("POST", logistic.freight_calculate, True),
    "logistic/trackInfo": ("GET", logistic.track_info, True),
    "shopping/order/createOrderV2": ("POST", shopping.create_order_v2, True),
    "shopping/order/getOrderDetail": ("GET", shopping.order_detail, True),
    "shopping/order/list": ("GET", shopping.order_list, True),
    "shopping/order/confirmOrder": ("PATCH", shopping.confirm_order, True),
    "shopping/order/deleteOrder": ("DELETE", shopping.delete_order, True),
    "shopping/order/addCart": ("POST", shopping.add_cart, True),
    "shopping/order/addCartConfirm": ("POST", shopping.add_cart_confirm, True),
    "shopping/order/saveGenerateParentOrder": ("POST", shopping.save_generate_parent_order, True),
    "shopping/pay/payBalance": ("POST", shopping.pay_balance, True),
    "shopping/pay/payBalanceV2": ("POST", shopping.pay_balance_v2, True),
    "shopping/pay/getBalance": ("GET", shopping.get_balance, True),
    "webhook/set": ("POST", webhook.webhook_set, True),
}
# endpoint -> (method, handler, needs a token, points per call by CJ's table)
ROUTES: dict[str, tuple[str, Handler, bool, int]] = {
    endpoint: (method, handler, needs_token, point_cost(endpoint))
    for endpoint, (method, handler, needs_token) in _ROUTES.items()
}
