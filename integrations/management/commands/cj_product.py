"""`python manage.py cj_product <pid>`: fetch one product from CJ and print a readable summary."""

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from integrations.cj.client import get_client
from integrations.cj.errors import (
    CJAuthError,
    CJError,
    CJNotConfiguredError,
    CJNotFoundError,
    CJQuotaExceededError,
    CJTransientError,
)
from integrations.cj.types import DecimalRange


def _price(value: DecimalRange) -> str:
    return f"{value.low} USD" if value.low == value.high else f"{value.low}-{value.high} USD"


class Command(BaseCommand):
    help = "Authenticate with CJ, fetch a product with its variants and stock, and print a summary."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("pid", help="CJ product id, e.g. 2408300610371613200")

    def handle(self, *args: Any, **options: Any) -> None:
        cj_logger = logging.getLogger("integration.cj")
        level = cj_logger.level
        if options["verbosity"] < 2:
            # The per-call JSON log lines would bury the one-line answer; -v 2 shows them.
            cj_logger.setLevel(logging.CRITICAL)
        try:
            self._summarise(options["pid"])
        finally:
            cj_logger.setLevel(level)

    def _summarise(self, pid: str) -> None:
        client = get_client()
        try:
            product = client.get_product(pid=pid)
        except CJNotFoundError as error:
            raise CommandError(f"CJ has no product {pid} (code {error.code}).") from error
        except CJNotConfiguredError as error:
            raise CommandError(error.message) from error
        except CJAuthError as error:
            raise CommandError(f"CJ refused the credentials: {error.message} (code {error.code}).") from error
        except CJQuotaExceededError as error:
            raise CommandError(f"CJ budget exhausted: {error.message}") from error
        except CJTransientError as error:
            raise CommandError(f"CJ is unreachable at {client.base_url}: {error.message}") from error
        except CJError as error:
            raise CommandError(f"CJ call failed: {error.message} (code {error.code}).") from error
        self.stdout.write(f"{product.pid}  {product.name}")
        self.stdout.write(
            f"SKU {product.sku} | {product.category_name or 'no category'} | {_price(product.sell_price)} | "
            f"{'on sale' if product.is_on_sale else 'off sale'}"
        )
        self.stdout.write(f"Variants ({len(product.variants)}):")
        for variant in product.variants:
            options_text = " / ".join(variant.option_values) or "-"
            stock = "unknown" if variant.stock is None else str(variant.stock)
            self.stdout.write(f"  {variant.sku:<32} {options_text:<16} {variant.sell_price:>8} USD  stock {stock}")
