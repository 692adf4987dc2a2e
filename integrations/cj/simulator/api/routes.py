"""The simulator's route table: endpoint -> (HTTP method, handler, needs a token, points cost)."""

from collections.abc import Callable
from typing import Any

from integrations.cj.simulator.api import authentication, logistic, product, setting, shopping, webhook
from integrations.cj.simulator.api.wire import SimRequest
from integrations.cj.simulator.state import Simulator

Handler = Callable[[Simulator, SimRequest], Any]
# endpoint -> (method, handler, needs a token, points)
ROUTES: dict[str, tuple[str, Handler, bool, int]] = {
    "authentication/getAccessToken": ("POST", authentication.get_access_token, False, 0),
    "authentication/refreshAccessToken": ("POST", authentication.refresh_access_token, False, 0),
    "authentication/logout": ("POST", authentication.logout, True, 0),
    "setting/get": ("GET", setting.setting_get, True, 0),
    "product/listV2": ("GET", product.list_v2, True, 50),
    "product/query": ("GET", product.product_query, True, 10),
    "product/variant/query": ("GET", product.variant_query, True, 10),
    "product/variant/queryByVid": ("GET", product.variant_by_vid, True, 10),
    "product/stock/queryByVid": ("GET", product.stock_by_vid, True, 10),
    "product/stock/getInventoryByPid": ("GET", product.inventory_by_pid, True, 0),
    "product/getCategory": ("GET", product.categories, True, 0),
    # Not on CJ's points table (CONTRACT §3.3: endpoints not listed cost nothing).
    "product/addToMyProduct": ("POST", product.add_to_my_product, True, 0),
    "product/myProduct/query": ("GET", product.my_product_query, True, 0),
    "product/globalWarehouseList": ("GET", product.warehouses, True, 0),
    "logistic/freightCalculate": ("POST", logistic.freight_calculate, True, 0),
    "logistic/trackInfo": ("GET", logistic.track_info, True, 0),
    "shopping/order/createOrderV2": ("POST", shopping.create_order_v2, True, 0),
    "shopping/order/getOrderDetail": ("GET", shopping.order_detail, True, 0),
    "shopping/order/list": ("GET", shopping.order_list, True, 0),
    "shopping/order/confirmOrder": ("PATCH", shopping.confirm_order, True, 0),
    "shopping/order/deleteOrder": ("DELETE", shopping.delete_order, True, 0),
    "shopping/pay/payBalance": ("POST", shopping.pay_balance, True, 0),
    "shopping/pay/getBalance": ("GET", shopping.get_balance, True, 0),
    "webhook/set": ("POST", webhook.webhook_set, True, 0),
}
