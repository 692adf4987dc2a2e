"""The CJ transport: one requests session, shared tokens, one shared rate limit, typed errors.

`CJTransport` is what every CJ endpoint method (`integrations.cj.client.CJClient`) sends through.
Every call: the day's points plan (`budget.DailyBudget.check`, for calls that cost points) -> a
valid access token from the shared store (refreshed or obtained under a cross-process lock) -> a
slot from the shared Redis limiter -> HTTP with explicit connect/read timeouts -> envelope check ->
typed error by CJ's code (CJ's "points used up" stops every call that costs points). Idempotent
reads are retried on transient errors with bounded backoff; order creation, confirmation and
payment are never repeated here (the caller looks the order up first). An answer `1600001`
(token rejected) renews the token once and repeats the call: CJ rejected it before doing
anything, so repeating is safe. One `integration.cj` log line per HTTP call; tokens and the API
key never appear in logs or errors.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urljoin

import redis
import requests
from django.conf import settings
from django.db import DatabaseError
from prometheus_client import Counter
from requests.adapters import HTTPAdapter

from integrations.cj import request_bodies
from integrations.cj.budget import DailyBudget
from integrations.cj.errors import (
    TOKEN_REJECTED_CODES,
    CJAuthError,
    CJError,
    CJNotConfiguredError,
    CJPermanentError,
    CJQuotaExceededError,
    CJRateLimitedError,
    CJTransientError,
    classify,
    envelope_is_success,
    envelope_refused_before_work,
)
from integrations.cj.points import daily_allowance, purpose_of
from integrations.cj.ratelimit import SharedRateLimiter
from integrations.cj.responses import ParseError, parse_token_pair
from integrations.cj.tokens import TokenStore
from integrations.cj.types import TokenPair

logger = logging.getLogger("integration.cj")
T = TypeVar("T")

CJ_CALLS = Counter("cj_calls", "HTTP calls made to CJ", ["endpoint", "outcome"])

# The token is renewed when it has less than this left (CJ access tokens live 15 days).
TOKEN_RENEW_MARGIN = timedelta(hours=12)
_INVALID_REFRESH_CODE = 1600003


@dataclass(frozen=True)
class ClientConfig:
    """The CJ settings one client is built from (a changed config builds a new client)."""

    base_url: str
    api_key: str
    open_id: str
    qps: float
    qps_margin: float
    connect_timeout: float
    read_timeout: float
    retry_attempts: int
    retry_backoff: float
    throttle_backoff: float
    limiter_max_wait: float
    pay_type: int | None
    redis_url: str
    daily_calls: int
    daily_points: int
    reserve_calls: int
    reserve_points: int
    give_up_margin: int = 0
    discovery_daily: int = 0

    @classmethod
    def from_settings(cls) -> "ClientConfig":
        return cls(
            base_url=settings.CJ_API_BASE,
            api_key=settings.CJ_API_KEY,
            open_id=settings.CJ_OPEN_ID,
            qps=settings.CJ_QPS,
            qps_margin=settings.CJ_QPS_MARGIN,
            connect_timeout=settings.CJ_CONNECT_TIMEOUT,
            read_timeout=settings.CJ_READ_TIMEOUT,
            retry_attempts=settings.CJ_RETRY_ATTEMPTS,
            retry_backoff=settings.CJ_RETRY_BACKOFF,
            throttle_backoff=settings.CJ_THROTTLE_BACKOFF,
            limiter_max_wait=settings.CJ_LIMITER_MAX_WAIT,
            pay_type=settings.CJ_PAY_TYPE,
            redis_url=settings.REDIS_URL,
            daily_calls=settings.CJ_DAILY_CALL_LIMIT,
            daily_points=daily_allowance(
                base_points=settings.CJ_DAILY_POINTS, largest_monthly_usd=settings.CJ_POINTS_ORDER_VOLUME_USD
            ),
            reserve_calls=settings.CJ_BUDGET_RESERVE_CALLS,
            reserve_points=settings.CJ_BUDGET_RESERVE_POINTS,
            give_up_margin=settings.CJ_POINTS_GIVE_UP_MARGIN,
            discovery_daily=settings.CJ_POINTS_DISCOVERY_DAILY,
        )

    @property
    def account_key(self) -> str:
        """Names the account in Redis keys without revealing the API key."""
        digest = hashlib.sha256(f"{self.base_url}|{self.api_key}".encode()).hexdigest()[:16]
        return f"cj:{digest}"


class CJTransport:
    """The HTTP, token, limiter and budget plumbing under `CJClient`. Thread-safe."""

    def __init__(self, config: ClientConfig, *, connection: redis.Redis | None = None) -> None:
        self.config = config
        self.base_url = config.base_url if config.base_url.endswith("/") else config.base_url + "/"
        # Short socket timeouts (order intake quotes through this client on the request path); a
        # connection from a URL makes no redis-py retries.
        self._redis = connection or redis.Redis.from_url(
            config.redis_url, socket_connect_timeout=settings.REDIS_REQUEST_TIMEOUT, socket_timeout=1.0
        )
        prefix = config.account_key
        self.tokens = TokenStore(self._redis, prefix=f"{prefix}:token")
        self.limiter = SharedRateLimiter(
            self._redis,
            key=f"{prefix}:limiter",
            qps=config.qps,
            margin=config.qps_margin,
            max_wait=config.limiter_max_wait,
        )
        self.budget = DailyBudget(
            self._redis,
            prefix=f"{prefix}:budget",
            calls_limit=config.daily_calls,
            points_limit=config.daily_points,
            calls_reserve=config.reserve_calls,
            points_reserve=config.reserve_points,
            give_up_margin=config.give_up_margin,
            discovery_daily=config.discovery_daily,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Content-Type": "application/json", "Accept": "application/json"})

    # --- identity -------------------------------------------------------------------------------
    @property
    def open_id(self) -> str:
        """The account's openId as a string (the webhook signing key): from the stored token
        (Redis, else PostgreSQL), else CJ_OPEN_ID. While this process knows the queue Redis is
        away (config.queues), PostgreSQL is asked directly: the webhook receiver spends no time on it."""
        from config.queues import enqueue_outage

        try:
            pair = self.tokens.durable.load() if enqueue_outage.is_down else self.tokens.load()
        except (redis.RedisError, DatabaseError):
            pair = None  # Redis down: the configured openId still verifies webhooks
        if pair and pair.open_id:
            return pair.open_id
        return self.config.open_id

    # --- auth -----------------------------------------------------------------------------------
    def authenticate(self) -> TokenPair:
        """Make sure a usable token pair is stored (login or refresh when needed) and return it."""
        pair = self.tokens.load()
        if pair and _usable(pair):
            return pair
        return self._renew(rejected=pair.access_token if pair else None)

    def _renew(self, *, rejected: str | None) -> TokenPair:
        """Refresh (or, without a usable refresh token, log in) under the cross-process lock."""
        try:
            with self.tokens.lock():
                pair = self.tokens.load()
                if pair and pair.access_token != rejected and _usable(pair):
                    return pair  # another process renewed it while we waited
                if pair and pair.refresh_token_expires_at > _now() + timedelta(minutes=1):
                    try:
                        renewed = self._refresh(pair)
                    except CJAuthError as error:
                        if error.code != _INVALID_REFRESH_CODE:
                            raise
                        logger.warning("cj.auth.refresh_rejected", extra={"code": error.code})
                    else:
                        self.tokens.save(renewed)
                        return renewed
                renewed = self._login()
                self.tokens.save(renewed)
                return renewed
        except redis.exceptions.LockError as error:
            raise CJTransientError("could not take the CJ token lock", endpoint="authentication") from error

    def _refresh(self, pair: TokenPair) -> TokenPair:
        endpoint = "authentication/refreshAccessToken"
        if not self.tokens.claim_refresh():
            raise CJRateLimitedError("refreshAccessToken used 5 times this minute", endpoint=endpoint, retry_after=60)
        body = request_bodies.refresh_body(refresh_token=pair.refresh_token)
        data = self._send("POST", endpoint, body=body, auth=False, attempt=1)
        renewed = self._parse(endpoint, lambda value: parse_token_pair(value, open_id=pair.open_id), data)
        logger.info("cj.auth.refreshed", extra={"expires_at": renewed.access_token_expires_at.isoformat()})
        return renewed

    def _login(self) -> TokenPair:
        endpoint = "authentication/getAccessToken"
        if not self.config.api_key:
            raise CJNotConfiguredError(
                "CJ_API_KEY is not set: put the API key from CJ's developer settings in the environment or .env "
                "(see .env.example)",
                endpoint=endpoint,
            )
        wait = self.tokens.claim_login()
        if wait:
            raise CJRateLimitedError(
                f"getAccessToken is allowed once per 5 minutes; retry in {wait} s", endpoint=endpoint, retry_after=wait
            )
        body = request_bodies.login_body(api_key=self.config.api_key)
        try:
            data = self._send("POST", endpoint, body=body, auth=False, attempt=1)
        except CJTransientError as error:
            if not isinstance(error, CJRateLimitedError):
                self.tokens.release_login()  # CJ never saw (or never answered) this login
            raise
        pair = self._parse(endpoint, parse_token_pair, data)
        logger.info("cj.auth.logged_in", extra={"expires_at": pair.access_token_expires_at.isoformat()})
        return pair

    def _access_token(self) -> str:
        return self.authenticate().access_token

    # --- transport ------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        endpoint: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> Any:
        """Send an authenticated call; retry transient failures of idempotent calls; renew a rejected token once."""
        max_attempts = max(1, self.config.retry_attempts) if idempotent else 1
        transient_failures = 0
        token_renewed = False
        # Bounded: max_attempts tries plus one repeat after renewing a rejected token.
        for attempt in range(1, max_attempts + 2):
            token = self._access_token()
            try:
                return self._send(method, endpoint, params=params, body=body, token=token, attempt=attempt)
            except CJAuthError as error:
                if token_renewed or error.code not in TOKEN_REJECTED_CODES:
                    raise
                token_renewed = True
                self._renew(rejected=token)
            except CJTransientError:
                transient_failures += 1
                if transient_failures >= max_attempts:
                    raise
                time.sleep(self.config.retry_backoff * 2 ** (transient_failures - 1))
        raise CJTransientError("retries exhausted", endpoint=endpoint)  # pragma: no cover - loop always returns

    def _send(
        self,
        method: str,
        endpoint: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        token: str | None = None,
        auth: bool = True,
        attempt: int,
    ) -> Any:
        """One HTTP call through the shared limiter; returns the envelope's `data` or raises a CJError."""
        headers = {"CJ-Access-Token": token} if auth and token else {}
        purpose = purpose_of(endpoint)
        self.budget.check(endpoint, purpose)  # every try: a retry costs CJ's points again
        waited = self.limiter.acquire(endpoint=endpoint)
        started = time.perf_counter()
        fields: dict[str, Any] = {
            "endpoint": endpoint,
            "method": method,
            "attempt": attempt,
            "limiter_wait_ms": round(waited * 1000, 1),
        }
        try:
            response = self.session.request(
                method,
                urljoin(self.base_url, endpoint),
                params=params,
                json=body,
                headers=headers,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )
        except requests.Timeout as error:
            self.budget.record(endpoint, purpose)  # CJ may have answered (and charged) after we gave up
            raise self._failed(fields, started, CJTransientError("timed out", endpoint=endpoint)) from error
        except requests.RequestException as error:
            failure: CJError = CJTransientError(f"connection failed: {type(error).__name__}", endpoint=endpoint)
            raise self._failed(fields, started, failure) from error
        fields["http_status"] = response.status_code
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not (isinstance(envelope, dict) and envelope_refused_before_work(envelope, response.status_code)):
            self.budget.record(endpoint, purpose)
        if not isinstance(envelope, dict):
            failure = classify(
                code=None,
                message=f"HTTP {response.status_code}, not a JSON envelope",
                endpoint=endpoint,
                request_id=None,
                http_status=response.status_code if response.status_code != 200 else 502,
            )
            raise self._failed(fields, started, failure, response=response)
        code = envelope.get("code")
        request_id = envelope.get("requestId")
        fields.update({"cj_code": code, "request_id": request_id})
        if response.status_code == 200 and envelope_is_success(envelope):
            fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
            logger.info("cj.call", extra={**fields, "outcome": "ok"})
            CJ_CALLS.labels(endpoint=endpoint, outcome="ok").inc()
            return envelope.get("data")
        failure = classify(
            code=code if isinstance(code, int) else None,
            message=str(envelope.get("message") or ""),
            endpoint=endpoint,
            request_id=request_id,
            http_status=response.status_code,
            points_info=envelope.get("pointsInfo"),
        )
        raise self._failed(fields, started, failure, response=response)

    def _failed(
        self, fields: dict[str, Any], started: float, error: CJError, *, response: requests.Response | None = None
    ) -> CJError:
        """Log the failed call, back the limiter off when throttled, and return the error to raise."""
        fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
        outcome = type(error).__name__
        if isinstance(error, CJRateLimitedError):
            retry_after = _retry_after(response)
            error.retry_after = retry_after or self.config.throttle_backoff
            self.limiter.back_off(error.retry_after)
        if isinstance(error, CJQuotaExceededError) and error.points_exhausted:
            self.budget.mark_exhausted(reset_at=error.reset_at, points_used=error.points_used)
            logger.error(
                "cj.points.exhausted",
                extra={
                    "endpoint": fields["endpoint"],
                    "reset_at": error.reset_at.isoformat(),
                    "points_used": error.points_used,
                },
            )
        level = logging.ERROR if isinstance(error, CJPermanentError | CJAuthError) else logging.WARNING
        logger.log(level, "cj.call", extra={**fields, "outcome": outcome, "error": error.message})
        CJ_CALLS.labels(endpoint=fields["endpoint"], outcome=outcome).inc()
        return error

    def _parse(self, endpoint: str, parse: Callable[[Any], T], data: Any) -> T:
        """`parse(data)`; CJPermanentError when CJ's answer does not have the documented shape."""
        try:
            return parse(data)
        except (ParseError, AttributeError, TypeError, KeyError) as error:
            raise CJPermanentError(f"unexpected answer: {error}", endpoint=endpoint) from error


def _retry_after(response: requests.Response | None) -> float | None:
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _now() -> datetime:
    return datetime.now(UTC)


def _usable(pair: TokenPair) -> bool:
    return pair.access_token_expires_at - TOKEN_RENEW_MARGIN > _now()
