"""Periodic work for RQ's cron scheduler (`python manage.py rqcron config.cron`).

Each app registers its periodic jobs here; the same work is also available as management
commands for system cron.
"""

from rq import cron

from config.jobs import sessions_clear_expired_job
from config.queues import SYNC_PRODUCTS

# Housekeeping rides the low-urgency catalog queue.
cron.register(sessions_clear_expired_job, SYNC_PRODUCTS, cron="17 3 * * *", name="sessions-clear-expired")
