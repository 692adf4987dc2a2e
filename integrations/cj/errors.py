"""One error hierarchy for CJ, classified by CJ's numeric code (CONTRACT §4).

Every error carries `code` (CJ's code, or the HTTP status for transport failures, or None),
`message`, `request_id` and `endpoint`.

    CJError
    ├── CJTransientError        network, timeout, HTTP 5xx, 1600000 busy, 1600301 read timeout
    │   └── CJRateLimitedError  1600200 or HTTP 429 (back off, then retry)
    ├── CJQuotaExceededError    points used up (HTTP 429 + code 429), 1600201, the daily call limit,
    │                           or the day's points plan; carries `reset_at` (00:00 UTC)
    ├── CJAuthError             1600001-1600008, 1601000 ... (credentials)
    │   └── CJNotConfiguredError  no CJ_API_KEY to log in with (CJ was never asked)
    └── CJPermanentError        parameters, not found, duplicates, balance, logistics ...
        ├── CJNotFoundError     1602000, 1602001, 1602002, 1602003, 1603100; getOrderDetail's 1600300
        ├── CJDuplicateOrderError  1603003: CJ already has an order with this orderNumber
        └── CJPaymentError      paying from the CJ balance was refused
            ├── CJBalanceInsufficientError  1604000: the balance does not cover the amount
            ├── CJBalanceRestrictedError    1604001: balance payment temporarily restricted (pay in MyCJ)
            └── CJPaymentFailedError        1603101: CJ refused this payment (e.g. paid already)

A permanent error also carries `reason`, what went wrong in the shop's words (`REASONS`), so that
no code outside `integrations/cj` needs CJ's numbers.
"""

import re
from datetime import UTC, datetime
from typing import Any

from integrations.cj.points import next_reset


class CJError(Exception):
    def __init__(
        self, message: str, *, code: int | None = None, request_id: str | None = None, endpoint: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.endpoint = endpoint

    def __str__(self) -> str:
        return f"CJ {self.endpoint} failed (code {self.code}, requestId {self.request_id}): {self.message}"


class CJTransientError(CJError):
    """Worth retrying later: the same call may succeed."""


class CJRateLimitedError(CJTransientError):
    """CJ throttled the call (1600200 / HTTP 429)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class CJQuotaExceededError(CJError):
    """The day's calls or points are used up (at CJ, or the points plan refuses the call).

    `reset_at` is when points come back (CJ: 00:00 UTC); `points_used`, `points_remaining` and
    `points_required` are CJ's figures when its answer gave them; `from_cj` tells CJ's refusal
    from our own plan's.
    """

    def __init__(
        self,
        message: str,
        *,
        reset_at: datetime | None = None,
        points_used: int | None = None,
        points_remaining: int | None = None,
        points_required: int | None = None,
        points_exhausted: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.reset_at = reset_at or next_reset()
        self.points_used = points_used
        self.points_remaining = points_remaining
        self.points_required = points_required
        self.points_exhausted = points_exhausted


class CJAuthError(CJError):
    """The API key or tokens are not accepted."""


class CJNotConfiguredError(CJAuthError):
    """A login is needed but no CJ_API_KEY is configured: the settings are at fault, not CJ."""

    def __str__(self) -> str:
        return self.message


class CJPermanentError(CJError):
    """Repeating the same call will fail the same way; `reason` is one of `REASONS`' values."""

    def __init__(self, message: str, *, reason: str = "rejected", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason


class CJNotFoundError(CJPermanentError):
    """The product, variant or order does not exist (or is off the shelves)."""


class CJDuplicateOrderError(CJPermanentError):
    """CJ already has an order with this orderNumber: an earlier or concurrent attempt won."""


class CJPaymentError(CJPermanentError):
    """CJ refused to take the payment from the balance."""


class CJBalanceInsufficientError(CJPaymentError):
    """1604000: the balance does not cover the amount; it may once the balance is topped up."""


class CJBalanceRestrictedError(CJPaymentError):
    """1604001: CJ temporarily restricts balance payment for the account; pay in MyCJ."""


class CJPaymentFailedError(CJPaymentError):
    """1603101: CJ refused this payment (paid already, cancelled, ...); read the order's state."""


PAYMENT_ERRORS: dict[int, type[CJPaymentError]] = {
    1604000: CJBalanceInsufficientError,
    1604001: CJBalanceRestrictedError,
    1603101: CJPaymentFailedError,
}
TRANSIENT_CODES = frozenset({1600000, 1600301})
# CJ's points page: an exhausted day answers HTTP 429 with this code in the body (not 1600200).
POINTS_EXHAUSTED_CODE = 429
# getOrderDetail documents "order not found" under 1600300; the client never sends the other
# causes CJ lists for it (an empty id, more than 20 features), so there the code means not found.
ORDER_DETAIL_NOT_FOUND_CODE = 1600300
RATE_LIMITED_CODES = frozenset({1600200})
QUOTA_CODES = frozenset({1600201})
AUTH_CODES = frozenset({1600001, 1600002, 1600003, 1600004, 1600005, 1600006, 1600008, 1600031, 1601000})
NOT_FOUND_CODES = frozenset({1602000, 1602001, 1602002, 1602003, 1603100})
DUPLICATE_ORDER_CODE = 1603003
# CJ codes (CONTRACT §4) -> why, in the shop's words; any other permanent code is "rejected".
REASONS: dict[int, str] = {
    1602000: "variant_unavailable",
    1602001: "variant_unavailable",
    1602002: "variant_unavailable",
    1602003: "variant_unavailable",
    1603102: "out_of_stock",
    1605000: "logistic_unavailable",
    1605001: "logistic_unavailable",
    1605002: "address_invalid",
    1600300: "address_invalid",
    16900403: "address_invalid",
    1604000: "balance_insufficient",
    1604001: "balance_insufficient",
    1603101: "balance_insufficient",
}
# CJ answers the daily call limit with 1600200 and this text; it is a quota, not a per-second throttle.
DAILY_LIMIT_MARKER = "daily request limit"


_POINTS_FIGURES = re.compile(r"used today:\s*(\d+).*?remaining:\s*(\d+).*?required:\s*(\d+)", re.I | re.S)
_RESET_KEYS = ("resetTime", "resetAt", "nextResetTime")


def _points_exhausted(message: str, points_info: Any, kwargs: dict[str, Any]) -> CJQuotaExceededError:
    """CJ's answer when the day's points are gone: its figures (message, else pointsInfo) and reset time."""
    figures: list[int | None] = [None, None, None]
    found = _POINTS_FIGURES.search(message or "")
    if found:
        figures = [int(value) for value in found.groups()]
    reset_at = None
    if isinstance(points_info, dict):
        for key in _RESET_KEYS:
            reset_at = _moment(points_info.get(key))
            if reset_at is not None:
                break
    used, remaining, required = figures
    return CJQuotaExceededError(
        message or "Insufficient API points",
        reset_at=reset_at,
        points_used=used,
        points_remaining=remaining,
        points_required=required,
        points_exhausted=True,
        **kwargs,
    )


def _moment(value: Any) -> datetime | None:
    """A reset time CJ may give: epoch milliseconds or ISO-8601 (naive means UTC)."""
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def classify(
    *,
    code: int | None,
    message: str,
    endpoint: str,
    request_id: str | None,
    http_status: int = 200,
    points_info: Any = None,
) -> CJError:
    """The error for a failed CJ answer, by CJ's numeric code (CONTRACT §4), else by HTTP status."""
    kwargs: dict[str, Any] = {"code": code, "request_id": request_id, "endpoint": endpoint}
    if code == POINTS_EXHAUSTED_CODE:
        return _points_exhausted(message, points_info, kwargs)
    if code in RATE_LIMITED_CODES:
        if DAILY_LIMIT_MARKER in message.lower():
            return CJQuotaExceededError(message, **kwargs)
        return CJRateLimitedError(message, **kwargs)
    if code in QUOTA_CODES:
        return CJQuotaExceededError(message, **kwargs)
    if http_status == 429:
        return CJRateLimitedError(message or "HTTP 429 Too Many Requests", **kwargs)
    if code in TRANSIENT_CODES or http_status >= 500:
        return CJTransientError(message or f"HTTP {http_status}", **kwargs)
    if code in AUTH_CODES:
        return CJAuthError(message, **kwargs)
    reason = REASONS.get(code or 0, "rejected")
    if code in NOT_FOUND_CODES:
        return CJNotFoundError(message, reason=reason, **kwargs)
    if code == ORDER_DETAIL_NOT_FOUND_CODE and endpoint.endswith("getOrderDetail"):
        return CJNotFoundError(message, reason=reason, **kwargs)
    if code == DUPLICATE_ORDER_CODE:
        return CJDuplicateOrderError(message, reason=reason, **kwargs)
    if code in PAYMENT_ERRORS:
        return PAYMENT_ERRORS[code](message, reason=reason, **kwargs)
    return CJPermanentError(message or f"HTTP {http_status}", reason=reason, **kwargs)


# Codes of a rejected (expired or unknown) access token: log in or refresh once, then call again.
TOKEN_REJECTED_CODES = frozenset({1600001, 1600002})


def envelope_is_success(envelope: dict[str, Any]) -> bool:
    """CJ's two envelopes: {code: 200, result: true} and {success: true, code: 0}; no code means success."""
    if envelope.get("result") is False or envelope.get("success") is False:
        return False
    if "code" not in envelope:
        return True
    return envelope.get("code") in (200, 0, "200", "0")


def envelope_refused_before_work(envelope: dict[str, Any], http_status: int) -> bool:
    """CJ refused the call without serving (or charging) it: points gone, throttled, token rejected."""
    code = envelope.get("code")
    return code in (429, 1600200, 1600201, *TOKEN_REJECTED_CODES) or (http_status == 429 and code in (None, 200))
