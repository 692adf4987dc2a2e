"""`python manage.py localstripe [--port LOCALSTRIPE_PORT]`: the Stripe stand-in (localstripe with our layer)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run localstripe, the stand-in for Stripe's API, with Idempotency-Key replay and webhook retries."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.LOCALSTRIPE_PORT)

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported here: localstripe is a development dependency, not part of the built package.
        try:
            from integrations.stripe_standin.server import serve
        except ModuleNotFoundError as error:
            raise CommandError("localstripe is not installed: it comes with the dev extra (make install)") from error
        self.stdout.write(f"localstripe (Stripe stand-in) on http://{options['host']}:{options['port']}")
        self.stdout.flush()
        serve(host=options["host"], port=options["port"])
