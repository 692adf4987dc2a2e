"""The CJ token pair, stored once in Redis and shared by every process.

Keys (under a prefix derived from the API base and a hash of the key, so a new key never reuses
old tokens): the pair as JSON, a cross-process lock that serialises refresh and login, the
5-minute guard of `getAccessToken` and the per-minute counter of `refreshAccessToken`.
The pair never leaves this module and the client: it is not logged and has no admin.
"""

import json
from datetime import datetime

import redis

from integrations.cj.types import TokenPair

LOGIN_INTERVAL_SECONDS = 300  # CJ: getAccessToken at most once per 5 minutes
REFRESH_PER_MINUTE = 5  # CJ: refreshAccessToken at most 5 times per minute


class TokenStore:
    """Redis-backed storage of the shared token pair and its call guards."""

    def __init__(self, connection: redis.Redis, *, prefix: str) -> None:
        self._redis = connection
        self.prefix = prefix

    @property
    def _pair_key(self) -> str:
        return f"{self.prefix}:pair"

    def load(self) -> TokenPair | None:
        """The stored pair, or None."""
        raw = self._redis.get(self._pair_key)
        if not raw:
            return None
        data = json.loads(raw)
        return TokenPair(
            access_token=data["access_token"],
            access_token_expires_at=datetime.fromisoformat(data["access_token_expires_at"]),
            refresh_token=data["refresh_token"],
            refresh_token_expires_at=datetime.fromisoformat(data["refresh_token_expires_at"]),
            open_id=data.get("open_id"),
        )

    def save(self, pair: TokenPair) -> None:
        """Store the pair for every process (kept until the refresh token expires)."""
        payload = {
            "access_token": pair.access_token,
            "access_token_expires_at": pair.access_token_expires_at.isoformat(),
            "refresh_token": pair.refresh_token,
            "refresh_token_expires_at": pair.refresh_token_expires_at.isoformat(),
            "open_id": pair.open_id,
        }
        self._redis.set(self._pair_key, json.dumps(payload))

    def clear(self) -> None:
        self._redis.delete(self._pair_key)

    def lock(self, *, timeout: float = 30.0, blocking_timeout: float = 30.0) -> redis.lock.Lock:
        """The cross-process lock held while refreshing or logging in."""
        return self._redis.lock(f"{self.prefix}:lock", timeout=timeout, blocking_timeout=blocking_timeout)

    def claim_login(self) -> int:
        """Claim the right to call getAccessToken; 0 when granted, else seconds until it may be called."""
        if self._redis.set(f"{self.prefix}:login-guard", "1", nx=True, ex=LOGIN_INTERVAL_SECONDS):
            return 0
        return max(1, int(self._redis.ttl(f"{self.prefix}:login-guard")))

    def release_login(self) -> None:
        """Give the claim back after a login that never reached CJ (network failure)."""
        self._redis.delete(f"{self.prefix}:login-guard")

    def claim_refresh(self) -> bool:
        """Count one refreshAccessToken call; False when 5 were made in the current minute."""
        key = f"{self.prefix}:refresh-count"
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 60, nx=True)
        count, _ = pipe.execute()
        return int(count) <= REFRESH_PER_MINUTE
