"""The simulator's state: configuration, clock, accounts and tokens, rate limits, faults, statistics.

One `Simulator` per server process, guarded by one lock. Time is the real time plus an offset
that the control API can move (`clock`), so token expiry and order progress can be tested.
"""

import bisect
import random
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from integrations.cj.points import daily_allowance, next_reset
from integrations.cj.simulator.catalog import SimProduct, SimVariant, generate_catalog

# Not a CJ key format on purpose (CJ keys look like "CJUserNum@api@<hex>").
DEMO_API_KEY = "SIMULATOR-DEMO-KEY"
DEMO_OPEN_ID = 1234567890
ACCESS_TOKEN_LIFETIME = timedelta(days=15)
REFRESH_TOKEN_LIFETIME = timedelta(days=180)
# CJ caches an account's token pair: within 24 h of its minting, refreshAccessToken returns the same
# pair (CONTRACT §2.2); a new pair is minted after that.
TOKEN_CACHE_WINDOW = timedelta(hours=24)
CJ_TIMEZONE_OFFSET = timedelta(hours=8)  # token dates are written with +08:00


class SimError(Exception):
    """An error answer in CJ's envelope."""

    def __init__(self, code: int, message: str, *, http_status: int = 200, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.extra = extra or {}  # more top-level fields of the envelope (pointsInfo)


@dataclass
class SimConfig:
    products: int = 500
    seed: int = 42
    qps: float = 1.0
    api_key: str = DEMO_API_KEY
    open_id: int = DEMO_OPEN_ID
    login_interval: float = 300.0  # getAccessToken at most once per this many seconds
    refresh_per_minute: int = 5
    daily_limit: int = 0  # calls per interface per day; 0 = unlimited
    daily_points: int = 0  # base points per day; 0 = unlimited
    order_volume_usd: float = 0.0  # largest monthly transaction (last 3 months): +100 points per USD
    throttle_http_429: bool = False  # answer throttling with HTTP 429 instead of 200 + 1600200
    insecure_webhooks: bool = False  # accept http:// and loopback callback URLs (local use)
    webhook_retry_delay: float = 300.0  # CJ: 5 minutes
    webhook_timeout: float = 3.0
    auto_advance_seconds: float = 0.0  # paid orders ship, then deliver, after this long; 0 = off
    balance: str = "1000.00"
    balance_restricted: bool = False  # CJ restricts balance payment for the account: 1604001

    @classmethod
    def from_dict(cls, values: dict[str, Any], *, base: "SimConfig | None" = None) -> "SimConfig":
        current = asdict(base or cls())
        unknown = set(values) - set(current)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        current.update(values)
        return cls(**current)


@dataclass
class Token:
    access_token: str
    access_expires: datetime
    refresh_token: str
    refresh_expires: datetime
    issued_at: datetime


@dataclass
class FaultRule:
    kind: str  # latency, timeout, http_5xx, throttle, expired_token, busy
    rate: float = 1.0
    endpoint: str = ""  # exact endpoint ("product/query"); empty = every CJ endpoint
    count: int | None = None  # inject at most this many times
    latency_ms: int = 1000
    status: int = 500
    injected: int = 0

    KINDS = ("latency", "timeout", "http_5xx", "throttle", "expired_token", "busy")


@dataclass
class SimShipment:
    """What addCartConfirm makes of confirmed orders: a shipment, paid as a parent order (payId)."""

    shipment_order_id: str
    order_ids: list[str]
    pay_id: str = ""
    paid_at: datetime | None = None


@dataclass
class SimOrder:
    cj_order_id: str
    order_number: str
    status: str
    body: dict[str, Any]
    lines: list[dict[str, Any]]
    logistic_name: str
    from_country: str
    product_amount: Decimal
    postage_amount: Decimal
    created_at: datetime
    is_sandbox: bool
    paid_at: datetime | None = None
    status_changed_at: datetime | None = None
    track_number: str = ""
    history: list[str] = field(default_factory=list)
    shipment_order_id: str = ""  # the cart confirmation's shipment (parent order) it belongs to

    @property
    def order_amount(self) -> Decimal:
        return self.product_amount + self.postage_amount


class Simulator:
    """All mutable simulator state; every method expects `self.lock` held by the caller unless noted."""

    def __init__(self, config: SimConfig) -> None:
        self.lock = threading.RLock()
        self.pusher: Any = None  # set by the server (webhooks.Pusher)
        self.base_config = config  # what /_sim/reset starts from
        self.reset(config)

    def reset(self, config: SimConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.clock_offset = 0.0
        self.catalog: dict[str, SimProduct] = generate_catalog(products=config.products, seed=config.seed)
        self.my_products: list[str] = []  # the account's "My Products", in the order added
        self.tokens: dict[str, Token] = {}  # access token -> token
        self.refresh_index: dict[str, Token] = {}
        self.last_login: float | None = None
        self.refresh_calls: deque[float] = deque()
        self.bucket_tokens = max(1.0, config.qps)
        self.bucket_updated = time.monotonic()
        self.recent_calls: list[float] = []
        self.daily_calls: Counter[tuple[str, str]] = Counter()
        self.daily_points: Counter[str] = Counter()
        self.faults: list[FaultRule] = []
        self.orders: dict[str, SimOrder] = {}  # by CJ id
        self.order_numbers: dict[str, str] = {}  # our number -> CJ id
        self.next_order_seq = 1
        self.balance = Decimal(config.balance)
        self.balance_restricted = config.balance_restricted
        self.shipments: dict[str, SimShipment] = {}  # shipmentOrderId -> shipment
        self.next_shipment_seq = 1
        self.webhooks: dict[str, str] = {}  # family -> URL
        self.stats: dict[str, Any] = {
            "calls": Counter(),
            "throttled": 0,
            "max_qps": 0,
            "faults_injected": 0,
            "get_access_token": 0,
            "refresh_access_token": 0,
            "orders_received": 0,
            "points_refused": 0,
        }
        if self.pusher is not None:
            self.pusher.reset()

    # --- clock ----------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    def advance_clock(self, seconds: float) -> None:
        self.clock_offset += seconds

    @staticmethod
    def cj_date(moment: datetime) -> str:
        """Token dates as CJ writes them: ISO-8601 with +08:00."""
        return moment.astimezone(timezone(CJ_TIMEZONE_OFFSET)).isoformat(timespec="seconds")

    @staticmethod
    def order_date(moment: datetime | None) -> str | None:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else None

    # --- auth -----------------------------------------------------------------------------------
    def issue_token(self) -> Token:
        now = self.now()
        token = Token(
            access_token=secrets.token_hex(16),
            access_expires=now + ACCESS_TOKEN_LIFETIME,
            refresh_token=secrets.token_hex(16),
            refresh_expires=now + REFRESH_TOKEN_LIFETIME,
            issued_at=now,
        )
        self.tokens[token.access_token] = token
        self.refresh_index[token.refresh_token] = token
        return token

    def renew_access_token(self, token: Token) -> None:
        """A new access token for a cached pair whose access token no longer works (only the
        expiry control can do that within the cache window); the refresh token stays."""
        self.tokens.pop(token.access_token, None)
        token.access_token, token.access_expires = secrets.token_hex(16), self.now() + ACCESS_TOKEN_LIFETIME
        self.tokens[token.access_token] = token

    def check_access_token(self, value: str | None) -> None:
        if not value:
            raise SimError(1600002, "CJ-Access-Token must not be empty")
        token = self.tokens.get(value)
        if token is None or token.access_expires <= self.now():
            raise SimError(1600001, "Invalid API key or access token")

    def expire_tokens(self) -> int:
        """Control: make every access token expired (refresh tokens stay valid)."""
        past = self.now() - timedelta(seconds=1)
        for token in self.tokens.values():
            token.access_expires = past
        return len(self.tokens)

    # --- limits ---------------------------------------------------------------------------------
    def observe_call(self, arrived: float) -> None:
        """Record an authenticated call's arrival (monotonic seconds, taken before any lock) for the
        max-QPS statistic: the most calls seen in any sliding 1-second window."""
        bisect.insort(self.recent_calls, arrived)
        while self.recent_calls and self.recent_calls[0] <= arrived - 2.0:
            self.recent_calls.pop(0)
        before = bisect.bisect_right(self.recent_calls, arrived) - bisect.bisect_right(self.recent_calls, arrived - 1.0)
        after = bisect.bisect_left(self.recent_calls, arrived + 1.0) - bisect.bisect_left(self.recent_calls, arrived)
        self.stats["max_qps"] = max(self.stats["max_qps"], before, after)

    def take_rate_slot(self) -> None:
        """Per-account token bucket: capacity max(1, QPS), refilled at QPS per second."""
        now = time.monotonic()
        capacity = max(1.0, self.config.qps)
        self.bucket_tokens = min(capacity, self.bucket_tokens + (now - self.bucket_updated) * self.config.qps)
        self.bucket_updated = now
        if self.bucket_tokens < 1.0:
            self.stats["throttled"] += 1
            raise self.throttle_error()
        self.bucket_tokens -= 1.0

    def throttle_error(self, message: str = "Too much request") -> SimError:
        return SimError(1600200, message, http_status=429 if self.config.throttle_http_429 else 200)

    def count_daily(self, endpoint: str, points: int) -> None:
        day = self.now().strftime("%Y-%m-%d")
        limit = self.config.daily_limit
        used = self.daily_calls[(day, endpoint)]
        if limit and used >= limit:
            self.stats["throttled"] += 1
            raise SimError(
                1600200,
                f"Too Many Requests, Sorry, you have reached the daily request limit ({limit} times/day). "
                f"Number of requests made: {used}. Please try again tomorrow.",
            )
        allowance = self.points_allowance()
        if points and allowance and self.daily_points[day] + points > allowance:
            raise self.points_exhausted(day, allowance, points)
        self.daily_calls[(day, endpoint)] += 1
        self.daily_points[day] += points

    def points_allowance(self) -> int:
        """The day's points (0 = unlimited): base + 100 per USD of the order volume (CJ's points page)."""
        if not self.config.daily_points:
            return 0
        return daily_allowance(base_points=self.config.daily_points, largest_monthly_usd=self.config.order_volume_usd)

    def points_exhausted(self, day: str, allowance: int, required: int) -> SimError:
        """CJ's answer when the day's points do not cover a call: HTTP 429, code 429 (points page)."""
        used = self.daily_points[day]
        remaining = max(0, allowance - used)
        base = self.config.daily_points
        self.stats["points_refused"] += 1
        return SimError(
            429,
            f"Insufficient API points. Used today: {used}, Remaining: {remaining}, Required: {required}",
            http_status=429,
            extra={
                "pointsInfo": {
                    "totalPoints": allowance,
                    "basePoints": base,
                    "orderConversionPoints": allowance - base,
                    "usedToday": used,
                    "remaining": remaining,
                    "required": required,
                    "resetTime": next_reset(self.now()).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            },
        )

    def points_today(self) -> dict[str, int]:
        day = self.now().strftime("%Y-%m-%d")
        return {"used": self.daily_points[day], "allowance": self.points_allowance()}

    # --- faults ---------------------------------------------------------------------------------
    def pick_fault(self, endpoint: str) -> FaultRule | None:
        for rule in self.faults:
            if rule.endpoint and rule.endpoint != endpoint:
                continue
            if rule.count is not None and rule.injected >= rule.count:
                continue
            if self.rng.random() < rule.rate:
                rule.injected += 1
                self.stats["faults_injected"] += 1
                return rule
        return None

    # --- catalog lookups ------------------------------------------------------------------------
    def find_variant(self, vid: str) -> tuple[SimProduct, SimVariant] | None:
        product = self.catalog.get(_pid_of(vid))
        if product is None:
            return None
        for variant in product.variants:
            if variant.vid == vid:
                return product, variant
        return None

    def find_variant_by_sku(self, sku: str) -> tuple[SimProduct, SimVariant] | None:
        for product in self.catalog.values():
            for variant in product.variants:
                if variant.sku == sku:
                    return product, variant
        return None

    def find_order(self, order_id: str) -> SimOrder | None:
        cj_id = self.order_numbers.get(order_id, order_id)
        return self.orders.get(cj_id)

    def stats_json(self) -> dict[str, Any]:
        return {
            "calls": dict(self.stats["calls"]),
            "total_calls": sum(self.stats["calls"].values()),
            "throttled": self.stats["throttled"],
            "max_qps": self.stats["max_qps"],
            "faults_injected": self.stats["faults_injected"],
            "get_access_token": self.stats["get_access_token"],
            "refresh_access_token": self.stats["refresh_access_token"],
            "orders_received": self.stats["orders_received"],
            "orders": len(self.orders),
            "points": self.points_today(),
            "points_refused": self.stats["points_refused"],
            "qps": self.config.qps,
            "clock": self.now().isoformat(),
            "webhooks": self.pusher.stats() if self.pusher is not None else {},
        }


def _pid_of(vid: str) -> str:
    """Simulated vids are their product's pid plus 1-99."""
    try:
        return str(int(vid) // 100 * 100)
    except ValueError:
        return ""
