"""CJ's "My Products" (the account's own product list): `product/addToMyProduct` and
`product/myProduct/query` (CONTRACT §5.7; the answer's paging block is listV2's: pageSize,
pageNumber, totalRecords, totalPages, content)."""

from decimal import Decimal
from typing import Any

from integrations.cj.simulator import catalog as cat
from integrations.cj.simulator.api.wire import SimRequest, int_arg, object_body, required
from integrations.cj.simulator.state import SimError, Simulator


def add_to_my_product(sim: Simulator, request: SimRequest) -> bool:
    """POST `{productId}`: an unknown pid is 1602001, one off sale 1602002; adding twice changes nothing."""
    object_body(request)
    required(request, "productId")
    pid = str(request.field("productId"))
    product = sim.catalog.get(pid)
    if product is None:
        raise SimError(1602001, "product not found")
    if not product.on_sale:
        raise SimError(1602002, "Product has been removed from shelves")
    if pid not in sim.my_products:
        sim.my_products.append(pid)
    return True


def _my_product_json(product: cat.SimProduct) -> dict[str, Any]:
    cid, third, _second, _first = product.category
    prices = [variant.price for variant in product.variants if variant.on_sale] or [Decimal("0")]
    return {
        "productId": product.pid,
        "nameEn": product.name,
        "sku": product.sku,
        "bigImage": product.image,
        "sellPrice": cat.product_price_text(product),
        "totalPrice": f"{min(prices):.2f}",
        "categoryId": cid,
        "categoryName": third,
        "isListed": 0,
        "saleStatus": "3" if product.on_sale else "2",
        "createAt": int(product.created_at.timestamp() * 1000),
    }


def my_product_query(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    """GET `pageNumber` (1-1000), `pageSize` (1-100), optional `keyword`, `categoryId`."""
    page = int_arg(request, "pageNumber", 1, 1, 1000)
    size = int_arg(request, "pageSize", 10, 1, 100)
    keyword = (request.arg("keyword") or "").lower()
    category = request.arg("categoryId")
    products = [sim.catalog[pid] for pid in sim.my_products if pid in sim.catalog]
    if keyword:
        products = [p for p in products if keyword in p.name.lower() or keyword in p.sku.lower()]
    if category:
        products = [p for p in products if p.category[0] == category]
    total = len(products)
    return {
        "pageSize": size,
        "pageNumber": page,
        "totalRecords": total,
        "totalPages": (total + size - 1) // size,
        "content": [_my_product_json(product) for product in products[(page - 1) * size : page * size]],
    }
