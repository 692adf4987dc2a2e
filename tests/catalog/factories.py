"""factory_boy factories for the catalog (also used by the orders tests)."""

from decimal import Decimal

import factory

from catalog.models import Category, Product, Variant
from integrations.cj import types as cj


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    cj_category_id = factory.Sequence(lambda n: f"CAT-{n:04d}")
    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    """An active, published product; its price range and stock flag follow the variants made with VariantFactory."""

    class Meta:
        model = Product

    cj_pid = factory.Sequence(lambda n: f"P{1000000 + n}")
    sku = factory.Sequence(lambda n: f"CJSKU{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    description = "<p>A fine product.</p>"
    images = factory.LazyAttribute(lambda o: [f"https://img.example.test/{o.cj_pid}.jpg"])
    category = factory.SubFactory(CategoryFactory)
    status = Product.Status.ACTIVE
    is_published = True
    min_price = Decimal("9.90")
    max_price = Decimal("9.90")
    is_in_stock = True


class VariantFactory(factory.django.DjangoModelFactory):
    """An active variant in stock. Call `products_aggregates_refresh` if the product's range matters."""

    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    cj_vid = factory.Sequence(lambda n: f"V{2000000 + n}")
    sku = factory.Sequence(lambda n: f"CJSKU-V{n:05d}")
    name = factory.LazyAttribute(lambda o: f"{o.product.name} variant")
    option_values = factory.LazyFunction(lambda: ["Black", "M"])
    options = factory.LazyFunction(lambda: [{"name": "Color", "value": "Black"}, {"name": "Size", "value": "M"}])
    supplier_cost = Decimal("4.00")
    price = Decimal("9.90")
    stock = 10
    cj_stock = factory.LazyAttribute(lambda o: o.stock)  # CJ's figure; no order holds units yet
    weight_grams = Decimal("120.00")
    status = Variant.Status.ACTIVE


def cj_variant(
    *, vid: str, pid: str, price: str = "4.00", stock: int | None = 10, sku: str | None = None
) -> cj.Variant:
    """A CJ variant as the client returns it (stock None: CJ sent no inventory)."""
    inventories = () if stock is None else (cj.Inventory(country_code="CN", total=stock, cj=stock, factory=0),)
    return cj.Variant(
        vid=vid,
        pid=pid,
        sku=sku or f"SKU-{vid}",
        name=f"Variant {vid}",
        option_values=("Black", "M"),
        image=f"https://img.example.test/{vid}.jpg",
        sell_price=Decimal(price),
        weight_grams=Decimal("120"),
        inventories=inventories,
    )


def cj_product(
    *,
    pid: str,
    name: str | None = None,
    variants: tuple[cj.Variant, ...] | None = None,
    category_id: str = "CAT-1",
    is_on_sale: bool = True,
) -> cj.Product:
    """A CJ product as the client returns it, with two variants unless given."""
    if variants is None:
        variants = (cj_variant(vid=f"{pid}-1", pid=pid), cj_variant(vid=f"{pid}-2", pid=pid, price="6.00"))
    prices = [variant.sell_price for variant in variants] or [Decimal("0")]
    return cj.Product(
        pid=pid,
        name=name or f"CJ product {pid}",
        sku=f"SKU-{pid}",
        images=(f"https://img.example.test/{pid}-a.jpg", f"https://img.example.test/{pid}-b.jpg"),
        description=f"<p>About {pid}</p>",
        category_id=category_id,
        category_name=f"Category {category_id}",
        sell_price=cj.DecimalRange(low=min(prices), high=max(prices)),
        weight_grams=cj.DecimalRange(low=Decimal("120"), high=Decimal("120")),
        is_on_sale=is_on_sale,
        option_names=("Color", "Size"),
        variants=variants,
    )
