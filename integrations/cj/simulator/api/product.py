"""CJ's Product section: list, query, variants, stock, categories, warehouses and "My Products"
(`product/addToMyProduct`, `product/myProduct/query`: CONTRACT §5.7; the answer's paging block is
listV2's: pageSize, pageNumber, totalRecords, totalPages, content)."""

from decimal import Decimal
from typing import Any

from integrations.cj.simulator import catalog as cat
from integrations.cj.simulator.api.wire import AltEnvelope, SimRequest, int_arg, object_body, required
from integrations.cj.simulator.state import SimError, Simulator


def list_v2(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    page = int_arg(request, "page", 1, 1, 1000)
    size = int_arg(request, "size", 10, 1, 100)
    keyword = (request.arg("keyWord") or "").lower()
    category = request.arg("categoryId")
    start = int_arg(request, "timeStart", 0, 0, 2**62)
    end = int_arg(request, "timeEnd", 0, 0, 2**62)
    products = [product for product in sim.catalog.values() if product.on_sale]
    if keyword:
        products = [p for p in products if keyword in p.name.lower() or keyword in p.sku.lower()]
    if category:
        products = [p for p in products if p.category[0] == category]
    if start:
        products = [p for p in products if p.created_at.timestamp() * 1000 >= start]
    if end:
        products = [p for p in products if p.created_at.timestamp() * 1000 <= end]
    country = (request.arg("countryCode") or "").upper()
    if country:
        products = [p for p in products if any(v.stock.get(country) for v in p.variants if v.on_sale)]
    low, high = _price_arg(request, "startSellPrice"), _price_arg(request, "endSellPrice")
    if low is not None or high is not None:
        products = [p for p in products if _price_within(p, low, high)]
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


def _price_arg(request: SimRequest, name: str) -> Decimal | None:
    raw = request.arg(name)
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except ArithmeticError as error:
        raise SimError(1600300, f"Param error: {name} must be a number") from error
    if not value.is_finite() or value < 0:
        raise SimError(1600300, f"Param error: {name} must be a number")
    return value


def _price_within(product: cat.SimProduct, low: Decimal | None, high: Decimal | None) -> bool:
    """The product's lowest on-sale variant price within [low, high] (CJ filters on the sell price)."""
    prices = [variant.price for variant in product.variants if variant.on_sale]
    if not prices:
        return False
    price = min(prices)
    return (low is None or price >= low) and (high is None or price <= high)


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


def variant_on_sale(sim: Simulator, vid: str | None) -> tuple[cat.SimProduct, cat.SimVariant]:
    """The product and variant for `vid`; SimError as CJ answers for a missing, unknown or removed one."""
    if not vid:
        raise SimError(16900403, "vid must not be empty")
    found = sim.find_variant(vid)
    if found is None:
        raise SimError(1602000, "variant not found")
    if not found[1].on_sale or not found[0].on_sale:
        raise SimError(1602003, "Variant has been removed from shelves")
    return found


def variant_by_vid(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    product, variant = variant_on_sale(sim, request.arg("vid"))
    return cat.variant_json(product, variant, with_inventory="enable_inventory" in request.args("features"))


def stock_by_vid(sim: Simulator, request: SimRequest) -> list[dict[str, Any]]:
    _product, variant = variant_on_sale(sim, request.arg("vid"))
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


# --- My Products ---------------------------------------------------------------------------------
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
