"""The CJ token pair: kept durably in PostgreSQL (encrypted), cached in Redis, shared by every process.

Redis keys (under a prefix derived from the API base and a hash of the key, so a new key never
reuses old tokens): the pair as JSON, a cross-process lock that serialises refresh and login, the
5-minute guard of `getAccessToken` and the per-minute counter of `refreshAccessToken`.

PostgreSQL (`integrations.models.CJTokenRecord`, one row per prefix) holds the same pair as
Fernet ciphertext and the time of the last login. A Redis that lost its data (flushed, restored
from an old snapshot, replaced) is filled again from the row on the next read, and the login
guard also reads the row, so a Redis loss never costs a login CJ would refuse for 5 minutes.
The key comes from `CJ_TOKEN_ENCRYPTION_KEY`, or is derived from `DJANGO_SECRET_KEY` when unset
(rotating that secret then means one new login). The pair never leaves this module and the
client: it is not logged and has no admin.
"""

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import redis
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import DatabaseError

from integrations.cj.types import TokenPair

LOGIN_INTERVAL_SECONDS = 300  # CJ: getAccessToken at most once per 5 minutes
REFRESH_PER_MINUTE = 5  # CJ: refreshAccessToken at most 5 times per minute


def _fernet() -> Fernet:
    key = settings.CJ_TOKEN_ENCRYPTION_KEY
    if not key:
        digest = hashlib.sha256(f"cj-token-encryption:{settings.SECRET_KEY}".encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key)


def _pair_to_json(pair: TokenPair) -> str:
    return json.dumps(
        {
            "access_token": pair.access_token,
            "access_token_expires_at": pair.access_token_expires_at.isoformat(),
            "refresh_token": pair.refresh_token,
            "refresh_token_expires_at": pair.refresh_token_expires_at.isoformat(),
            "open_id": pair.open_id,
        }
    )


def _pair_from_json(raw: str | bytes) -> TokenPair:
    data = json.loads(raw)
    return TokenPair(
        access_token=data["access_token"],
        access_token_expires_at=datetime.fromisoformat(data["access_token_expires_at"]),
        refresh_token=data["refresh_token"],
        refresh_token_expires_at=datetime.fromisoformat(data["refresh_token_expires_at"]),
        open_id=data.get("open_id"),
    )


class DurableTokens:
    """The PostgreSQL side: the encrypted pair and the last login's time, per account prefix."""

    def __init__(self, account: str) -> None:
        self.account = account

    def load(self) -> TokenPair | None:
        from integrations.models import CJTokenRecord

        record = CJTokenRecord.objects.filter(account=self.account).first()
        if record is None or not record.ciphertext:
            return None
        try:
            return _pair_from_json(_fernet().decrypt(record.ciphertext.encode()))
        except InvalidToken:
            return None  # encrypted under another key: as if none were stored (a login renews it)

    def save(self, pair: TokenPair) -> None:
        from integrations.models import CJTokenRecord

        ciphertext = _fernet().encrypt(_pair_to_json(pair).encode()).decode()
        CJTokenRecord.objects.update_or_create(account=self.account, defaults={"ciphertext": ciphertext})

    def clear(self) -> None:
        from integrations.models import CJTokenRecord

        CJTokenRecord.objects.filter(account=self.account).update(ciphertext="")

    def seconds_until_login(self) -> int:
        """0 when CJ would accept a login now, else the seconds left of its 5-minute interval."""
        from integrations.models import CJTokenRecord

        login_at = CJTokenRecord.objects.filter(account=self.account).values_list("login_at", flat=True).first()
        if login_at is None:
            return 0
        left = (login_at + timedelta(seconds=LOGIN_INTERVAL_SECONDS) - datetime.now(UTC)).total_seconds()
        return max(0, int(left) + 1) if left > 0 else 0

    def login_claimed(self) -> None:
        from integrations.models import CJTokenRecord

        CJTokenRecord.objects.update_or_create(account=self.account, defaults={"login_at": datetime.now(UTC)})

    def login_released(self) -> None:
        from integrations.models import CJTokenRecord

        CJTokenRecord.objects.filter(account=self.account).update(login_at=None)


class TokenStore:
    """The shared token pair and its call guards: Redis in front, PostgreSQL behind."""

    def __init__(self, connection: redis.Redis, *, prefix: str) -> None:
        self._redis = connection
        self.prefix = prefix
        self.durable = DurableTokens(prefix)

    @property
    def _pair_key(self) -> str:
        return f"{self.prefix}:pair"

    def load(self) -> TokenPair | None:
        """The stored pair, or None: from Redis, else from PostgreSQL (then cached in Redis again).

        Raises redis.RedisError only when Redis fails and PostgreSQL has no pair either."""
        try:
            raw = self._redis.get(self._pair_key)
        except redis.RedisError:
            pair = self._durable_load()
            if pair is None:
                raise
            return pair
        if raw:
            return _pair_from_json(raw)
        pair = self._durable_load()
        if pair is not None:
            self._redis.set(self._pair_key, _pair_to_json(pair))
        return pair

    def _durable_load(self) -> TokenPair | None:
        try:
            return self.durable.load()
        except DatabaseError:
            return None

    def save(self, pair: TokenPair) -> None:
        """Store the pair for every process: PostgreSQL first (it must outlive Redis), then Redis."""
        self.durable.save(pair)
        self._redis.set(self._pair_key, _pair_to_json(pair))

    def clear(self) -> None:
        self.durable.clear()
        self._redis.delete(self._pair_key)

    def lock(self, *, timeout: float = 30.0, blocking_timeout: float = 30.0) -> redis.lock.Lock:
        """The cross-process lock held while refreshing or logging in."""
        return self._redis.lock(f"{self.prefix}:lock", timeout=timeout, blocking_timeout=blocking_timeout)

    def claim_login(self) -> int:
        """Claim the right to call getAccessToken; 0 when granted, else seconds until it may be called.

        Both guards must agree: Redis' (shared, cheap) and PostgreSQL's last login, which a Redis
        that lost its data still knows."""
        durable_wait = self.durable.seconds_until_login()
        if durable_wait:
            return durable_wait
        if self._redis.set(f"{self.prefix}:login-guard", "1", nx=True, ex=LOGIN_INTERVAL_SECONDS):
            self.durable.login_claimed()
            return 0
        return max(1, int(self._redis.ttl(f"{self.prefix}:login-guard")))

    def release_login(self) -> None:
        """Give the claim back after a login that never reached CJ (network failure)."""
        self.durable.login_released()
        self._redis.delete(f"{self.prefix}:login-guard")

    def claim_refresh(self) -> bool:
        """Count one refreshAccessToken call; False when 5 were made in the current minute."""
        key = f"{self.prefix}:refresh-count"
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 60, nx=True)
        count, _ = pipe.execute()
        return int(count) <= REFRESH_PER_MINUTE
