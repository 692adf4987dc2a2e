"""`python manage.py cj_webhooks register|sweep|reconcile|status`.

- `register [--url URL] [--wait SECONDS] [--reconcile]`: (re-)register the callback URL with CJ's
  `webhook/set` (which also lifts CJ's pause); `--wait` keeps trying while CJ is unreachable (e.g.
  the simulator is still starting); `--reconcile` then catches up on what a pause hid.
- `sweep`: enqueue stored events that were never processed (for system cron).
- `reconcile`: enqueue an incremental catalog sync and a status check of every open order.
- `status`: events per status and the pause guard's figures.
"""

import json
import time
from typing import Any

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.cj.errors import CJError, CJTransientError
from webhooks.selectors import webhook_event_counts_by_status
from webhooks.services import webhook_events_sweep, webhook_register, webhooks_pause_guard_check, webhooks_reconcile

RETRY_EVERY_SECONDS = 1.0


class Command(BaseCommand):
    help = "CJ webhooks: register the callback URL with CJ, sweep unprocessed events, reconcile, status."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["register", "sweep", "reconcile", "status"])
        parser.add_argument("--url", help="callback URL to register (default: CJ_WEBHOOK_URL)")
        parser.add_argument(
            "--wait", type=float, default=0.0, help="seconds to keep retrying while CJ is unreachable (register)"
        )
        parser.add_argument("--reconcile", action="store_true", help="after registering, reconcile")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "register":
                self._register(options["url"] or settings.CJ_WEBHOOK_URL, wait=options["wait"])
                if options["reconcile"]:
                    self._reconcile()
            elif action == "sweep":
                counts = webhook_events_sweep()
                self.stdout.write(
                    f"found {counts['found']} unprocessed event(s): enqueued {counts['enqueued']}, "
                    f"already queued {counts['already_queued']}"
                )
            elif action == "reconcile":
                self._reconcile()
            else:
                self._status()
        except redis.RedisError as error:
            raise CommandError(f"Redis is unreachable: {error}") from error

    def _register(self, url: str, *, wait: float) -> None:
        if not url:
            raise CommandError("no callback URL: pass --url or set CJ_WEBHOOK_URL")
        deadline = time.monotonic() + max(wait, 0.0)
        attempts = max(1, int(wait / RETRY_EVERY_SECONDS) + 1)
        for attempt in range(1, attempts + 1):
            try:
                webhook_register(callback_url=url)
            except CJTransientError as error:
                if time.monotonic() >= deadline or attempt == attempts:
                    raise CommandError(f"CJ unreachable, webhook not registered: {error}") from error
                time.sleep(RETRY_EVERY_SECONDS)
                continue
            except CJError as error:
                raise CommandError(f"CJ refused the webhook registration: {error}") from error
            self.stdout.write(f"registered {url} with CJ for product, stock, order and logistics messages")
            return

    def _reconcile(self) -> None:
        summary = webhooks_reconcile()
        self.stdout.write(
            f"enqueued incremental sync (job {summary['sync_job_id']}) and "
            f"{summary['order_status_checks']} order status check(s)"
        )

    def _status(self) -> None:
        counts = webhook_event_counts_by_status()
        stats = webhooks_pause_guard_check()
        self.stdout.write("events: " + ", ".join(f"{status} {total}" for status, total in counts.items()))
        self.stdout.write("pause guard (last hour): " + json.dumps(stats.as_dict()))
