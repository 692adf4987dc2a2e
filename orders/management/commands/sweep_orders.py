"""Cron: re-enqueue stuck orders and ask CJ about quiet ones (what the scheduler runs every minute)."""

from typing import Any

import redis
from django.core.management.base import BaseCommand, CommandError

from orders.sweeps import orders_sweep


class Command(BaseCommand):
    help = "Re-enqueue orders stuck in pending/forwarding and enqueue CJ status checks of quiet orders."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = orders_sweep()
        except redis.RedisError as error:
            raise CommandError(f"Redis is unreachable, nothing was enqueued: {error}") from None
        self.stdout.write(
            f"re-enqueued {counts['reforwarded']} stuck order(s); enqueued {counts['status_checks']} CJ status check(s)"
        )
