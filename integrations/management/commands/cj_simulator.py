"""`python manage.py cj_simulator [--port 8765] [--products N] [--qps Q]`: run the CJ simulator."""

import signal
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the local CJ API 2.0 simulator (CJ's API under /api2.0/v1/, controls under /_sim/)."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.CJ_SIMULATOR_PORT)
        parser.add_argument("--products", type=int, default=500, help="catalog size (default 500)")
        parser.add_argument("--qps", type=float, default=1.0, help="per-account requests/second (default 1)")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--insecure-webhooks", action="store_true", help="accept http:// and loopback callback URLs (local use)"
        )
        parser.add_argument("--webhook-retry-delay", type=float, default=300.0, help="seconds (CJ: 300)")
        parser.add_argument(
            "--auto-advance", type=float, default=0.0, help="seconds after which paid orders ship, then deliver"
        )
        parser.add_argument("--login-interval", type=float, default=300.0, help="getAccessToken spacing (CJ: 300)")

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported here: the simulator ships with the repository checkout, not with the built package.
        try:
            from integrations.cj.simulator.server import serve
            from integrations.cj.simulator.state import SimConfig
        except ModuleNotFoundError as error:
            raise CommandError("the CJ simulator is not installed: run it from the repository checkout") from error
        config = SimConfig(
            products=options["products"],
            seed=options["seed"],
            qps=options["qps"],
            insecure_webhooks=options["insecure_webhooks"],
            webhook_retry_delay=options["webhook_retry_delay"],
            auto_advance_seconds=options["auto_advance"],
            login_interval=options["login_interval"],
        )
        server = serve(host=options["host"], port=options["port"], config=config)

        def _stop(signum: int, frame: Any) -> None:
            server.server_close()
            sys.exit(0)

        signal.signal(signal.SIGTERM, _stop)
        host, port = server.server_address[:2]
        if isinstance(host, bytes | bytearray):  # typeshed allows bytes in an AF_INET address; bound, it is str
            host = host.decode()
        self.stdout.write(
            f"CJ simulator on http://{host}:{port}/api2.0/v1/ ({len(server.sim.catalog)} products, "
            f"{config.qps:g} QPS); API key {config.api_key}, openId {config.open_id}; controls under /_sim/",
        )
        self.stdout.flush()
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
