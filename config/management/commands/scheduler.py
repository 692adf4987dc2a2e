"""`python manage.py scheduler`: RQ's cron scheduler running `config.cron`, through Redis outages.

django-rq's `rqcron` exits on the first Redis error. Docker's restart policy would start it again,
but `make run` (honcho) stops every process when one exits, so this command starts the cron
scheduler again once Redis answers. Periodic jobs are idempotent: one enqueued again right after
a restart does no harm.
"""

import logging
from typing import Any

import redis
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config.outages import Outage
from config.queues import SYNC_PRODUCTS, get_queue
from config.worker import redis_wait

logger = logging.getLogger("jobs")

CRON_CONFIG = "config.cron"


class Command(BaseCommand):
    help = "Run RQ's cron scheduler (config.cron); start it again when Redis comes back after an outage."

    def handle(self, *args: Any, **options: Any) -> None:
        # One line when Redis goes away (`scheduler.redis.outage`), one when the cron scheduler
        # runs again (`scheduler.redis.recovered`, with how long it lasted), nothing in between.
        outage = Outage(logger, "scheduler.redis")
        while True:
            try:
                call_command("rqcron", CRON_CONFIG)
                return
            except (redis.ConnectionError, redis.TimeoutError) as error:
                outage.failed(error)
                redis_wait(get_queue(SYNC_PRODUCTS).connection)
                outage.succeeded()
