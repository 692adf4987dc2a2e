"""Periodic work for RQ's cron scheduler (`python manage.py rqcron config.cron`).

Each app registers its periodic jobs here; the same work is also available as management
commands for system cron.
"""

from django.conf import settings
from rq import cron

from catalog.jobs import import_rules_scheduled_job, incremental_sync_scheduled_job, stock_refresh_scheduled_job
from config.jobs import sessions_clear_expired_job
from config.queues import CREATE_ORDER, PROCESS_WEBHOOK, SYNC_PRODUCTS, UPDATE_STOCK
from orders.jobs import cj_balance_check_job, orders_sweep_job
from webhooks.jobs import webhooks_sweep_scheduled_job

# Housekeeping rides the low-urgency catalog queue.
cron.register(sessions_clear_expired_job, SYNC_PRODUCTS, cron="17 3 * * *", name="sessions-clear-expired")

# Catalog: incremental product sync and stock refresh (intervals from settings).
cron.register(
    incremental_sync_scheduled_job,
    SYNC_PRODUCTS,
    interval=settings.CATALOG_INCREMENTAL_SYNC_MINUTES * 60,
    name="catalog-incremental-sync",
)
cron.register(
    stock_refresh_scheduled_job,
    UPDATE_STOCK,
    interval=settings.CATALOG_STOCK_REFRESH_MINUTES * 60,
    name="catalog-stock-refresh",
)
# Catalog curation: the import rules find new candidates within their own points allowance.
cron.register(
    import_rules_scheduled_job,
    SYNC_PRODUCTS,
    interval=settings.CATALOG_DISCOVERY_INTERVAL_MINUTES * 60,
    name="catalog-import-rules",
)

# Orders: re-enqueue orders whose job vanished or whose enqueue was lost; ask CJ about quiet ones.
cron.register(orders_sweep_job, CREATE_ORDER, interval=settings.ORDERS_SWEEP_INTERVAL_SECONDS, name="orders-sweep")
# Orders: read the CJ balance (alert when low), pay orders waiting for it, re-enqueue lost CJ payments.
cron.register(
    cj_balance_check_job, CREATE_ORDER, interval=settings.CJ_BALANCE_CHECK_SECONDS, name="orders-cj-balance-check"
)

# Webhooks: enqueue events stored but never processed (Redis was down); log the pause guard's alert.
cron.register(
    webhooks_sweep_scheduled_job,
    PROCESS_WEBHOOK,
    interval=settings.WEBHOOKS_SWEEP_INTERVAL_SECONDS,
    name="webhooks-sweep",
)
