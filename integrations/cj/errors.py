"""One error hierarchy for CJ, classified by CJ's numeric code (CONTRACT §4).

Every error carries `code` (CJ's code, or the HTTP status for transport failures, or None),
`message`, `request_id` and `endpoint`.

    CJError
    ├── CJTransientError        network, timeout, HTTP 5xx, 1600000 busy, 1600301 read timeout
    │   └── CJRateLimitedError  1600200 or HTTP 429 (back off, then retry)
    ├── CJQuotaExceededError    1600201 or the daily limit; also our own reserve (BudgetExceeded)
    ├── CJAuthError             1600001-1600008, 1601000 ... (credentials)
    │   └── CJNotConfiguredError  no CJ_API_KEY to log in with (CJ was never asked)
    └── CJPermanentError        parameters, not found, duplicates, balance, logistics ...
        ├── CJNotFoundError     1602000, 1602001, 1602002, 1602003, 1603100
        ├── CJDuplicateOrderError  1603003: CJ already has an order with this orderNumber
        └── CJPaymentError      paying from the CJ balance was refused
            ├── CJBalanceInsufficientError  1604000: the balance does not cover the amount
            ├── CJBalanceRestrictedError    1604001: balance payment temporarily restricted (pay in MyCJ)
            └── CJPaymentFailedError        1603101: CJ refused this payment (e.g. paid already)

A permanent error also carries `reason`, what went wrong in the shop's words (`REASONS`), so that
no code outside `integrations/cj` needs CJ's numbers.
"""

from typing import Any


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
    """The day's calls or points are used up (at CJ, or below our configured reserve)."""


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
TRANSIENT_CODES = frozenset({1600000, 1600100, 1600301})
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


def classify(
    *, code: int | None, message: str, endpoint: str, request_id: str | None, http_status: int = 200
) -> CJError:
    """The error for a failed CJ answer, by CJ's numeric code (CONTRACT §4), else by HTTP status."""
    kwargs: dict[str, Any] = {"code": code, "request_id": request_id, "endpoint": endpoint}
    if http_status == 429:
        return CJRateLimitedError(message or "HTTP 429 Too Many Requests", **kwargs)
    if code in RATE_LIMITED_CODES:
        if DAILY_LIMIT_MARKER in message.lower():
            return CJQuotaExceededError(message, **kwargs)
        return CJRateLimitedError(message, **kwargs)
    if code in QUOTA_CODES:
        return CJQuotaExceededError(message, **kwargs)
    if code in TRANSIENT_CODES or http_status >= 500:
        return CJTransientError(message or f"HTTP {http_status}", **kwargs)
    if code in AUTH_CODES:
        return CJAuthError(message, **kwargs)
    reason = REASONS.get(code or 0, "rejected")
    if code in NOT_FOUND_CODES:
        return CJNotFoundError(message, reason=reason, **kwargs)
    # getOrderDetail documents "order not found" under the generic parameter code.
    if code == 1600300 and endpoint.endswith("getOrderDetail") and "not found" in message.lower():
        return CJNotFoundError(message, reason=reason, **kwargs)
    if code == DUPLICATE_ORDER_CODE:
        return CJDuplicateOrderError(message, reason=reason, **kwargs)
    if code in PAYMENT_ERRORS:
        return PAYMENT_ERRORS[code](message, reason=reason, **kwargs)
    return CJPermanentError(message or f"HTTP {http_status}", reason=reason, **kwargs)
