"""Staff lookups of CJ's live data (`/api/cj/...`): a product as CJ has it now, and its stock.

Each spends CJ quota, so the product is cached for an hour. CJ's errors become the DomainErrors
below, which the API's exception handler maps to its JSON error format.
"""

import logging
from typing import Any

from django.core.cache import caches

from catalog.serializers import plain
from config.domain_errors import DomainError
from integrations.cj.client import get_client
from integrations.cj.errors import CJError, CJNotFoundError

logger = logging.getLogger(__name__)
CJ_PRODUCT_CACHE_SECONDS = 60 * 60


class CJProductNotFound(DomainError):
    status = 404
    code = "not_found"
    message = "CJ has no product with this pid."


class CJLookupUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    message = "CJ did not answer the lookup; try again shortly."


def cj_product_get(*, pid: str) -> dict[str, Any]:
    """CJ's product with its variants and inventory, as JSON-ready data; cached for 1 h (`products`).

    Raises CJProductNotFound and CJLookupUnavailable (any other CJ error, logged)."""
    cache = caches["products"]
    key = f"cj-product:{pid}"
    data = cache.get(key)
    if data is None:
        try:
            data = plain(get_client().get_product(pid=pid, with_inventory=True))
        except CJError as error:
            raise _lookup_error(error) from error
        cache.set(key, data, CJ_PRODUCT_CACHE_SECONDS)
    return data


def cj_stock_get(*, pid: str) -> dict[str, Any]:
    """CJ's live stock of a product: per variant its total and its warehouses (never cached).

    Raises CJProductNotFound and CJLookupUnavailable (any other CJ error, logged)."""
    try:
        stock = get_client().get_stock_by_pid(pid=pid)
    except CJError as error:
        raise _lookup_error(error) from error
    variants = [
        {"vid": vid, "total": sum(row.total for row in rows), "warehouses": plain(rows)}
        for vid, rows in sorted(stock.items())
    ]
    return {"pid": pid, "variants": variants}


def _lookup_error(error: CJError) -> DomainError:
    if isinstance(error, CJNotFoundError):
        return CJProductNotFound()
    logger.warning("catalog.cj_lookup.failed", extra={"error": type(error).__name__, "code": error.code})
    return CJLookupUnavailable()
