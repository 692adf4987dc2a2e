"""factory_boy factories for orders (the webhooks tests use them too)."""

import secrets
from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import Order, OrderItem
from tests.catalog.factories import VariantFactory
from tests.crm.factories import CustomerFactory


class OrderFactory(factory.django.DjangoModelFactory):
    """A paid order of one item (its stock is NOT reserved: use the services for that)."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"DS-TEST{n:05d}")
    customer = factory.SubFactory(CustomerFactory)
    email = factory.LazyAttribute(lambda o: o.customer.email)
    shipping_name = "Ada Buyer"
    shipping_line1 = "1 Test Street"
    shipping_city = "Springfield"
    shipping_province = "IL"
    shipping_zip = "62701"
    shipping_country_code = "US"
    logistic_name = "CJPacket Ordinary"
    items_total = Decimal("9.90")
    shipping_total = Decimal("3.00")
    total = Decimal("12.90")
    status = Order.Status.PAID
    status_changed_at = factory.LazyFunction(timezone.now)
    access_token = factory.LazyFunction(lambda: secrets.token_urlsafe(24))

    @factory.post_generation
    def items(self, create, extracted, **kwargs):
        if create and extracted is None:
            OrderItemFactory(order=self)


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    variant = factory.SubFactory(VariantFactory)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda o: o.variant.price)
    unit_cost = factory.LazyAttribute(lambda o: o.variant.supplier_cost)
