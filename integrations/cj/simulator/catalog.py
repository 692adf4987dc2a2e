"""The simulator's deterministic catalog and its CJ-shaped JSON (CONTRACT §5).

Same seed and size -> same products, variants, prices and stock. Product `2408300610371613200`
(the contract's sample product) is always the first product. Prices and weights are rendered the
way CJ sends them: strings, numbers and ranges ("2.35-2.60", "2.09 -- 7.46").
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

SAMPLE_PID = "2408300610371613200"
_FIRST_PID = int(SAMPLE_PID)
_CREATED_BASE = datetime(2024, 8, 30, 6, 10, 37, tzinfo=UTC)

# (first-level name, [(second-level name, [third-level names])]); ids follow the samples' scheme.
CATEGORY_TREE: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    ("Home & Garden", (("Kitchen Tools", ("Measuring Tools", "Peelers")), ("Storage", ("Jars", "Baskets")))),
    ("Pet Supplies", (("Dog Supplies", ("Dog Toys", "Leashes")), ("Cat Supplies", ("Cat Toys", "Litter")))),
    ("Electronics", (("Phone Accessories", ("Cables", "Cases")), ("Audio", ("Earphones", "Speakers")))),
)
WAREHOUSES: dict[str, tuple[int, str, str]] = {
    "CN": (1, "China Warehouse", "China"),
    "US": (2, "US Warehouse", "United States"),
    "DE": (3, "Germany Warehouse", "Germany"),
}
_COLORS = ("Black", "White", "Red", "Blue", "Green", "Pink", "Grey", "Yellow")
_SIZES = ("S", "M", "L", "XL")
_NOUNS = ("Spoon Set", "Dog Toy", "Phone Case", "Storage Jar", "Cable", "Cat Toy", "Leash", "Speaker", "Peeler")
_ADJECTIVES = ("Silicone", "Rope", "Slim", "Glass", "Braided", "Feather", "Reflective", "Mini", "Steel")


def category_id(first: int, second: int, third: int) -> str:
    return f"00000000-0000-4000-8000-{(first + 1) * 100 + second * 10 + third + 1:012d}"


def all_categories() -> list[tuple[str, str, str, str]]:
    """(id, third name, second name, first name) for every leaf category."""
    leaves = []
    for first_index, (first_name, seconds) in enumerate(CATEGORY_TREE):
        for second_index, (second_name, thirds) in enumerate(seconds):
            for third_index, third_name in enumerate(thirds):
                leaf_id = category_id(first_index, second_index, third_index)
                leaves.append((leaf_id, third_name, second_name, first_name))
    return leaves


@dataclass
class SimVariant:
    vid: str
    pid: str
    sku: str
    options: tuple[str, ...]
    price: Decimal
    weight: Decimal
    stock: dict[str, int]  # country code -> units
    on_sale: bool = True


@dataclass
class SimProduct:
    pid: str
    name: str
    sku: str
    category: tuple[str, str, str, str]
    description: str
    created_at: datetime
    option_names: tuple[str, ...]
    variants: list[SimVariant] = field(default_factory=list)
    on_sale: bool = True
    dash_range: bool = False  # render price ranges as "a -- b" (CJ sends both forms)

    @property
    def image(self) -> str:
        return f"https://img.example.test/p/{self.pid}-1.jpg"


def _sample_product() -> SimProduct:
    category = all_categories()[0]
    product = SimProduct(
        pid=SAMPLE_PID,
        name="Silicone Measuring Spoon Set",
        sku="CJTEST0000001",
        category=category,
        description="<p>Food-grade silicone spoon set.</p>",
        created_at=_CREATED_BASE,
        option_names=("Color", "Size"),
    )
    product.variants = [
        SimVariant(
            vid=str(_FIRST_PID + 1),
            pid=SAMPLE_PID,
            sku="CJTEST0000001-Black-M",
            options=("Black", "M"),
            price=Decimal("2.35"),
            weight=Decimal("85.0"),
            stock={"CN": 400, "US": 80},
        ),
        SimVariant(
            vid=str(_FIRST_PID + 2),
            pid=SAMPLE_PID,
            sku="CJTEST0000001-White-L",
            options=("White", "L"),
            price=Decimal("2.60"),
            weight=Decimal("95.0"),
            stock={"CN": 400},
        ),
    ]
    return product


def generate_product(rng: random.Random, index: int) -> SimProduct:
    """Product number `index` (1-based after the sample product) with 2-8 variants."""
    pid = str(_FIRST_PID + 100 * index)
    sku = f"CJSIM{index:08d}"
    categories = all_categories()
    noun = _NOUNS[index % len(_NOUNS)]
    product = SimProduct(
        pid=pid,
        name=f"{rng.choice(_ADJECTIVES)} {noun} {index}",
        sku=sku,
        category=categories[index % len(categories)],
        description=f"<p>Simulated product {index}: {noun.lower()}.</p>",
        created_at=_CREATED_BASE + timedelta(hours=index),
        option_names=("Color", "Size"),
        dash_range=index % 3 == 0,
    )
    base_price = Decimal(rng.randint(50, 4000)) / 100
    count = rng.randint(2, 8)
    combinations = [(color, size) for color in _COLORS for size in _SIZES]
    for number, (color, size) in enumerate(rng.sample(combinations, count), start=1):
        stock = {"CN": rng.randint(0, 500)}
        if rng.random() < 0.5:
            stock["US"] = rng.randint(0, 120)
        if rng.random() < 0.25:
            stock["DE"] = rng.randint(0, 60)
        product.variants.append(
            SimVariant(
                vid=str(int(pid) + number),
                pid=pid,
                sku=f"{sku}-{color}-{size}",
                options=(color, size),
                price=(base_price + Decimal(rng.randint(0, 300)) / 100).quantize(Decimal("0.01")),
                weight=Decimal(rng.randint(20, 900)).quantize(Decimal("0.1")),
                stock=stock,
            )
        )
    return product


def generate_catalog(*, products: int, seed: int) -> dict[str, SimProduct]:
    """The catalog by pid: the sample product first, then `products - 1` generated ones."""
    rng = random.Random(seed)
    catalog = {SAMPLE_PID: _sample_product()}
    for index in range(1, max(1, products)):
        product = generate_product(rng, index)
        catalog[product.pid] = product
    return catalog


# --- JSON in CJ's shapes ------------------------------------------------------------------------
def _range_text(low: Decimal, high: Decimal, *, dash: bool = False) -> str:
    if low == high:
        return f"{low:.2f}"
    return f"{low:.2f} -- {high:.2f}" if dash else f"{low:.2f}-{high:.2f}"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def product_price_text(product: SimProduct) -> str:
    prices = [variant.price for variant in product.variants if variant.on_sale] or [Decimal("0")]
    return _range_text(min(prices), max(prices), dash=product.dash_range)


def product_summary_json(product: SimProduct) -> dict[str, Any]:
    """One `productList` item of listV2."""
    cid, third, _second, _first = product.category
    inventory = sum(sum(variant.stock.values()) for variant in product.variants)
    price = product_price_text(product)
    return {
        "id": product.pid,
        "nameEn": product.name,
        "sku": product.sku,
        "spu": product.sku,
        "bigImage": product.image,
        "sellPrice": price,
        "nowPrice": price,
        "discountPrice": "",
        "discountPriceRate": "",
        "listedNum": 0,
        "isCollect": 0,
        "categoryId": cid,
        "threeCategoryName": third,
        "addMarkStatus": 0,
        "isVideo": 0,
        "productType": "ORDINARY_PRODUCT",
        "supplierName": "Simulated Supplier",
        "createAt": _ms(product.created_at),
        "warehouseInventoryNum": inventory,
        "verifiedWarehouse": 1,
        "customization": 0,
        "myProduct": False,
        "currency": "USD",
        "deliveryCycle": "3",
        "saleStatus": "3" if product.on_sale else "2",
    }


def inventories_json(variant: SimVariant) -> list[dict[str, Any]]:
    return [
        {
            "countryCode": country,
            "totalInventory": units,
            "cjInventory": units if country != "CN" else 0,
            "factoryInventory": units if country == "CN" else 0,
            "verifiedWarehouse": "2" if country == "CN" else "1",
            "stock": [
                {
                    "stockId": f"stock-{country.lower()}-001",
                    "inventory": units if country != "CN" else 0,
                    "factoryInventory": units if country == "CN" else 0,
                }
            ],
        }
        for country, units in variant.stock.items()
    ]


def variant_json(product: SimProduct, variant: SimVariant, *, with_inventory: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "vid": variant.vid,
        "pid": variant.pid,
        "variantName": f"{product.name} {' '.join(variant.options)}",
        "variantNameEn": f"{product.name} {' '.join(variant.options)}",
        "variantSku": variant.sku,
        "variantImage": f"https://img.example.test/v/{variant.vid}.jpg",
        "variantStandard": "long=120,width=40,height=20",
        "variantUnit": "unit",
        "variantProperty": "[]",
        "variantKey": "-".join(variant.options),
        "variantLength": 120,
        "variantWidth": 40,
        "variantHeight": 20,
        "variantVolume": 96000,
        "variantWeight": float(variant.weight),
        "variantSellPrice": float(variant.price),
        "variantSugSellPrice": float(variant.price * 3),
        "createTime": product.created_at.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if with_inventory:
        body["inventories"] = inventories_json(variant)
    return body


def product_json(product: SimProduct, *, with_inventory: bool, country: str | None = None) -> dict[str, Any]:
    """`product/query` data."""
    cid, third, second, first = product.category
    variants = [variant for variant in product.variants if variant.on_sale]
    if country:
        variants = [variant for variant in variants if variant.stock.get(country)]
    weights = [variant.weight for variant in product.variants] or [Decimal("0")]
    return {
        "pid": product.pid,
        "productName": f'["{product.name}"]',
        "productNameEn": product.name,
        "productSku": product.sku,
        "productImage": product.image,
        "productWeight": _range_text(min(weights), max(weights)),
        "productType": "ORDINARY_PRODUCT",
        "productUnit": "unit",
        "categoryId": cid,
        "categoryName": f"{first} / {second} / {third}",
        "productKeyEn": "-".join(product.option_names),
        "addMarkStatus": 0,
        "description": product.description,
        "sellPrice": product_price_text(product),
        "createrTime": product.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "status": "3" if product.on_sale else "2",
        "listedNum": 0,
        "supplierName": "Simulated Supplier",
        "customizationVersion": 0,
        "variants": [variant_json(product, variant, with_inventory=with_inventory) for variant in variants],
    }


def stock_rows_json(variant: SimVariant) -> list[dict[str, Any]]:
    """`product/stock/queryByVid` data."""
    rows = []
    for country, units in variant.stock.items():
        area_id, area_name, _country_name = WAREHOUSES.get(country, (9, f"{country} Warehouse", country))
        rows.append(
            {
                "vid": variant.vid,
                "areaId": area_id,
                "areaEn": area_name,
                "countryCode": country,
                "storageNum": units,
                "totalInventoryNum": units,
                "cjInventoryNum": units if country != "CN" else 0,
                "factoryInventoryNum": units if country == "CN" else 0,
                "stock": [{"stockId": f"stock-{country.lower()}-001", "inventory": units, "factoryInventory": 0}],
            }
        )
    return rows


def inventory_by_pid_json(product: SimProduct) -> dict[str, Any]:
    """`product/stock/getInventoryByPid` data."""
    totals: dict[str, int] = {}
    variant_rows = []
    for variant in product.variants:
        rows = []
        for country, units in variant.stock.items():
            totals[country] = totals.get(country, 0) + units
            rows.append(
                {
                    "countryCode": country,
                    "totalInventoryNum": units,
                    "cjInventoryNum": units if country != "CN" else 0,
                    "factoryInventoryNum": units if country == "CN" else 0,
                    "verifiedWarehouse": 2 if country == "CN" else 1,
                    "stock": [],
                }
            )
        variant_rows.append({"vid": variant.vid, "inventory": rows})
    inventories = []
    for country, units in totals.items():
        area_id, area_name, country_name = WAREHOUSES.get(country, (9, f"{country} Warehouse", country))
        inventories.append(
            {
                "areaEn": area_name,
                "areaId": area_id,
                "countryCode": country,
                "countryNameEn": country_name,
                "totalInventoryNum": units,
                "cjInventoryNum": units if country != "CN" else 0,
                "factoryInventoryNum": units if country == "CN" else 0,
            }
        )
    return {"inventories": inventories, "variantInventories": variant_rows}


def categories_json() -> list[dict[str, Any]]:
    """`product/getCategory` data (the 3-level tree)."""
    tree = []
    for first_index, (first_name, seconds) in enumerate(CATEGORY_TREE):
        first_list = []
        for second_index, (second_name, thirds) in enumerate(seconds):
            first_list.append(
                {
                    "categorySecondName": second_name,
                    "categorySecondList": [
                        {"categoryId": category_id(first_index, second_index, third_index), "categoryName": name}
                        for third_index, name in enumerate(thirds)
                    ],
                }
            )
        tree.append({"categoryFirstName": first_name, "categoryFirstList": first_list})
    return tree
