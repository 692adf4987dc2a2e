"""The shop's own settings: catalog pricing and sync, CJ, CRM, webhooks, orders.

Imported by `config.settings`; Django's and the libraries' settings live there. Every value comes
from the environment (`.env.example` lists them).
"""

from config.configuration import SettingsEnv

env = SettingsEnv()

# --- Catalog: pricing rule and sync schedule ---------------------------------------------------
# price = cost * markup + fixed, rounded up to end in CATALOG_PRICE_ENDING, margin never below the floor.
CATALOG_PRICE_MARKUP = env.str("CATALOG_PRICE_MARKUP", default="2.0")
CATALOG_PRICE_FIXED = env.str("CATALOG_PRICE_FIXED", default="1.00")
CATALOG_PRICE_ENDING = env.str("CATALOG_PRICE_ENDING", default="0.90")
CATALOG_MIN_MARGIN_PERCENT = env.str("CATALOG_MIN_MARGIN_PERCENT", default="30")
CATALOG_CURRENCY = env.str("CATALOG_CURRENCY", default="USD")
CATALOG_SYNC_PAGE_SIZE = env.int("CATALOG_SYNC_PAGE_SIZE", default=100)
CATALOG_INCREMENTAL_SYNC_MINUTES = env.int("CATALOG_INCREMENTAL_SYNC_MINUTES", default=60)
CATALOG_STOCK_REFRESH_MINUTES = env.int("CATALOG_STOCK_REFRESH_MINUTES", default=5)  # the stock plan's tick
# The stock plan (catalog/stock_plan.py): a product quoted or ordered in the last HOT_HOURS is read
# again once its figure is HOT_MINUTES old; one low on stock (a variant at or below LOW_LEVEL) once
# LOW_MINUTES old; any other once COLD_HOURS old; all within the stock refresh's points.
CATALOG_STOCK_HOT_HOURS = env.int("CATALOG_STOCK_HOT_HOURS", default=3)
CATALOG_STOCK_HOT_MINUTES = env.int("CATALOG_STOCK_HOT_MINUTES", default=60)
CATALOG_STOCK_LOW_LEVEL = env.int("CATALOG_STOCK_LOW_LEVEL", default=10)
CATALOG_STOCK_LOW_MINUTES = env.int("CATALOG_STOCK_LOW_MINUTES", default=120)
CATALOG_STOCK_COLD_HOURS = env.int("CATALOG_STOCK_COLD_HOURS", default=6)
# A CJ cost change beyond this percentage waits for staff review instead of re-pricing (0: never held).
CATALOG_MAX_PRICE_CHANGE_PERCENT = env.int("CATALOG_MAX_PRICE_CHANGE_PERCENT", default=50)
# Curation: an incremental sync re-reads this many of our own products (detail calls, in turn).
CATALOG_INCREMENTAL_SYNC_BATCH = env.int("CATALOG_INCREMENTAL_SYNC_BATCH", default=40)
# Minutes between scheduled runs of the import rules (their points: CJ_POINTS_DISCOVERY_DAILY, the plan's).
CATALOG_DISCOVERY_INTERVAL_MINUTES = env.int("CATALOG_DISCOVERY_INTERVAL_MINUTES", default=360)
# Admin CJ search pages are cached this long, so browsing back and forth costs no points.
CATALOG_SEARCH_CACHE_SECONDS = env.int("CATALOG_SEARCH_CACHE_SECONDS", default=900)
# What `bootstrap --starter` (make run) imports on an empty catalog: pids, and one keyword rule.
CATALOG_STARTER_PIDS = env.list("CATALOG_STARTER_PIDS", default=["2408300610371613200"])
CATALOG_STARTER_KEYWORD = env.str("CATALOG_STARTER_KEYWORD", default="Dog Toy")

# --- CJ Dropshipping ----------------------------------------------------------------------------
CJ_API_KEY = env.str("CJ_API_KEY", default="")
CJ_API_BASE = env.str("CJ_API_BASE", default="https://developers.cjdropshipping.com/api2.0/v1/")
# The account's openId (webhook signing key); the stored token's openId wins once logged in.
CJ_OPEN_ID = env.str("CJ_OPEN_ID", default="")
CJ_QPS = env.float("CJ_QPS", default=1.0)  # per account level: 1, 2, 4 or 6
CJ_QPS_MARGIN = env.float("CJ_QPS_MARGIN", default=0.05)  # spacing slack against network jitter
CJ_CONNECT_TIMEOUT = env.float("CJ_CONNECT_TIMEOUT", default=3.05)
CJ_READ_TIMEOUT = env.float("CJ_READ_TIMEOUT", default=20.0)
CJ_RETRY_ATTEMPTS = env.int("CJ_RETRY_ATTEMPTS", default=3)  # tries of an idempotent read
CJ_RETRY_BACKOFF = env.float("CJ_RETRY_BACKOFF", default=0.5)  # seconds, doubled per retry
CJ_THROTTLE_BACKOFF = env.float("CJ_THROTTLE_BACKOFF", default=1.0)  # pause of all callers after CJ throttles a call
CJ_LIMITER_MAX_WAIT = env.float("CJ_LIMITER_MAX_WAIT", default=120.0)
CJ_PAY_TYPE = env.int("CJ_PAY_TYPE", default=3)  # createOrderV2 payType: 2 balance, 3 create only
CJ_DAILY_CALL_LIMIT = env.int("CJ_DAILY_CALL_LIMIT", default=100_000)
CJ_DAILY_POINTS = env.int("CJ_DAILY_POINTS", default=50_000)
CJ_BUDGET_RESERVE_CALLS = env.int("CJ_BUDGET_RESERVE_CALLS", default=500)
CJ_BUDGET_RESERVE_POINTS = env.int("CJ_BUDGET_RESERVE_POINTS", default=5_000)
# --- CJ points plan (integrations/cj/points.py, budget.py, points_plan.py; catalog/stock_plan.py) ---
# CJ adds 100 points a day per USD of the largest monthly transaction amount of the last 3 months.
CJ_POINTS_ORDER_VOLUME_USD = env.float("CJ_POINTS_ORDER_VOLUME_USD", default=0.0)
# Orders and quotes may use the reserve (CJ_BUDGET_RESERVE_POINTS); stock refresh stops at it,
# product syncs this many points earlier, discovery twice as early.
CJ_POINTS_GIVE_UP_MARGIN = env.int("CJ_POINTS_GIVE_UP_MARGIN", default=5_000)
CJ_POINTS_DISCOVERY_DAILY = env.int("CJ_POINTS_DISCOVERY_DAILY", default=5_000)  # discovery's cap per day
CJ_SIMULATOR_PORT = env.int("CJ_SIMULATOR_PORT", default=8765)
CJ_HEALTH_CACHE_SECONDS = 30

# --- CRM ----------------------------------------------------------------------------------------
# Public lead form (POST /api/crm/leads): submissions allowed per client address.
CRM_LEAD_THROTTLE_RATE = env.str("CRM_LEAD_THROTTLE_RATE", default="10/min")

# --- Webhooks (CJ inbox) ------------------------------------------------------------------------
# Public callback URL registered with CJ's webhook/set by `manage.py cj_webhooks register`.
CJ_WEBHOOK_URL = env.str("CJ_WEBHOOK_URL", default="")
WEBHOOKS_MAX_BODY_BYTES = env.int("WEBHOOKS_MAX_BODY_BYTES", default=1024 * 1024)
# Stored events not processed after this long are enqueued again by the sweeper.
WEBHOOKS_SWEEP_AFTER_SECONDS = env.int("WEBHOOKS_SWEEP_AFTER_SECONDS", default=60)
WEBHOOKS_SWEEP_INTERVAL_SECONDS = env.int("WEBHOOKS_SWEEP_INTERVAL_SECONDS", default=60)
# Pause guard: CJ pauses every push at 50 % failures; alert (and /health degraded) well before.
WEBHOOKS_ALERT_FAILURE_RATIO = env.float("WEBHOOKS_ALERT_FAILURE_RATIO", default=0.2)
WEBHOOKS_ALERT_MIN_SAMPLES = env.int("WEBHOOKS_ALERT_MIN_SAMPLES", default=10)

# --- Orders -------------------------------------------------------------------------------------
CJ_SHIP_FROM_COUNTRY = env.str("CJ_SHIP_FROM_COUNTRY", default="CN")  # warehouse country quoted and ordered from
# A freight quote answers every cart of its route and weight class this long (orders/freight.py).
CJ_QUOTE_CACHE_HOURS = env.int("CJ_QUOTE_CACHE_HOURS", default=24)
ORDERS_STUCK_AFTER_SECONDS = env.int("ORDERS_STUCK_AFTER_SECONDS", default=300)  # pending/forwarding -> re-enqueue
ORDERS_STATUS_CHECK_AFTER_SECONDS = env.int("ORDERS_STATUS_CHECK_AFTER_SECONDS", default=6 * 3600)
ORDERS_STATUS_CHECK_BATCH = env.int("ORDERS_STATUS_CHECK_BATCH", default=100)

# --- Orders: paying CJ from the CJ balance (orders/cj_payment.py) -------------------------------
# The day's (UTC) CJ spending beyond which an order waits for staff approval; 0 turns the limit off.
CJ_DAILY_SPEND_LIMIT = env.str("CJ_DAILY_SPEND_LIMIT", default="500.00")
# Below this CJ balance (USD) the balance check logs an alert and /health reports degraded.
CJ_BALANCE_ALERT_BELOW = env.str("CJ_BALANCE_ALERT_BELOW", default="100.00")
# Seconds between balance checks (getBalance; pays the orders waiting for balance when it allows).
CJ_BALANCE_CHECK_SECONDS = env.int("CJ_BALANCE_CHECK_SECONDS", default=300)

# --- Payments (buyer side: Stripe, or a storefront that takes payment elsewhere) ----------------
# "stripe": intake creates a PaymentIntent and the order waits for payment_intent.succeeded;
# "external": intake needs the storefront's API token and a payment reference, orders start paid.
PAYMENTS_PROVIDER = env.str("PAYMENTS_PROVIDER", default="stripe")
# Bearer token the storefront sends in external mode (compared in constant time); a DRF token works too.
STOREFRONT_API_TOKEN = env.str("STOREFRONT_API_TOKEN", default="")
# Empty: localstripe, the stand-in `make run` and the tests start, on STRIPE_API_BASE.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
# Port of localstripe, the Stripe stand-in `make run` starts without STRIPE_SECRET_KEY.
LOCALSTRIPE_PORT = env.int("LOCALSTRIPE_PORT", default=8420)
# An unpaid order holds its stock this long, then expires (stock released, PaymentIntent cancelled).
ORDERS_PAYMENT_TIMEOUT_MINUTES = env.int("ORDERS_PAYMENT_TIMEOUT_MINUTES", default=30)
# An unpaid order older than this is checked at Stripe by the sweeper (a webhook Stripe never delivered).
ORDERS_PAYMENT_CHECK_AFTER_SECONDS = env.int("ORDERS_PAYMENT_CHECK_AFTER_SECONDS", default=120)

# --- Faults: Redis budget on the request path, workers, CJ tokens at rest ------------------------
# Seconds any Redis call outside a worker's own dequeue may take (connect and read; no retries).
REDIS_REQUEST_TIMEOUT = env.float("REDIS_REQUEST_TIMEOUT", default=0.5)
# While Redis is known to be away, a process tries it again once per this many seconds.
REDIS_OUTAGE_PROBE_SECONDS = env.float("REDIS_OUTAGE_PROBE_SECONDS", default=2.0)
# Fernet key (urlsafe base64, 32 bytes) for CJ's tokens in PostgreSQL; empty: derived from DJANGO_SECRET_KEY.
CJ_TOKEN_ENCRYPTION_KEY = env.str("CJ_TOKEN_ENCRYPTION_KEY", default="")
# Share of CJ's rate that catalog and stock calls may take; the rest is kept for orders and quotes.
CJ_LIMITER_BACKGROUND_SHARE = env.float("CJ_LIMITER_BACKGROUND_SHARE", default=0.5)
# Products per stock-refresh job: a run is a chain of jobs this small, so a worker is never held long.
CATALOG_STOCK_REFRESH_BATCH = env.int("CATALOG_STOCK_REFRESH_BATCH", default=20)
# Orders sweep: its interval, and how old a pending/forwarding order must be before a missing job counts as lost.
ORDERS_SWEEP_INTERVAL_SECONDS = env.int("ORDERS_SWEEP_INTERVAL_SECONDS", default=30)
ORDERS_JOB_LOST_AFTER_SECONDS = env.int("ORDERS_JOB_LOST_AFTER_SECONDS", default=15)
# Workers write a heartbeat to PostgreSQL this often; /health calls one silent for 3 periods dead.
WORKER_HEARTBEAT_SECONDS = env.int("WORKER_HEARTBEAT_SECONDS", default=10)
