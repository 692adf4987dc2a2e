import pytest

from catalog.models import Variant
from integrations.cj.client import get_client
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
