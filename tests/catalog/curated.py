"""What staff do before a sync has anything to read: import products from the simulator."""

from typing import Any

from catalog.curation import ImportRef, products_import
from catalog.models import SyncRun


def import_catalog(cj_simulator: Any, *, pids: list[str] | None = None, publish: bool = True) -> SyncRun:
    """Import these simulator products (default: all of them), published, without touching My Products."""
    wanted = pids if pids is not None else cj_simulator.info()["pids"]
    return products_import(refs=[ImportRef("pid", pid, publish) for pid in wanted], add_to_my_products=False)
