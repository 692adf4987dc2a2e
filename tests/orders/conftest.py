import pytest

from catalog.models import Variant
from integrations.cj.client import get_client
from orders import services
from orders.freight import freight_quote
from tests.catalog.factories import ProductFactory, VariantFactory


def local_copies_of_sample_product(sim) -> list[Variant]:
    """Local variants of the simulator's sample product (same CJ vids, so CJ can quote and ship
    them), each with 10 units in stock and priced 9.90."""
    product = get_client().get_product(pid=sim.info()["sample_pid"])
    local = ProductFactory(cj_pid=product.pid, name=product.name)
    return [VariantFactory(product=local, cj_vid=variant.vid, sku=variant.sku) for variant in product.variants]


@pytest.fixture
def sim_variants(cj_simulator) -> list[Variant]:
    return local_copies_of_sample_product(cj_simulator)


ADDRESS = services.ShippingAddress(line1="1 Main St", city="Austin", province="TX", zip="78701", country_code="US")


def place_order(variant, *, quantity=1, email="ada@example.com", logistic_name=None, paid=True):
    """An order placed through the API's service for `quantity` units of `variant`, shipped by the
    first freight option (or `logistic_name`). `paid`: with a payment reference (as in external
    mode), so it starts `paid` and its forwarding is enqueued after commit; otherwise it waits in
    `awaiting_payment` (no PaymentIntent)."""
    option = freight_quote(country_code="US", zip="78701", lines=[(variant, quantity)])[0]
    order, _ = services.order_place(
        email=email,
        name="Ada Lovelace",
        phone="",
        address=ADDRESS,
        lines=[services.OrderLineInput(variant_id=variant.pk, quantity=quantity)],
        logistic_name=logistic_name or option.logistic_name,
        shipping_total=option.total_price,
        payment_reference="test-payment" if paid else "",
    )
    return order
