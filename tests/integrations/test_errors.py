"""The classification of every documented CJ error code (the contract's error samples and the
codes CONTRACT.md lists). Pure functions: no HTTP, no mocks."""

import json
from pathlib import Path

import pytest

from integrations.cj.errors import (
    CJAuthError,
    CJBalanceInsufficientError,
    CJBalanceRestrictedError,
    CJDuplicateOrderError,
    CJNotFoundError,
    CJPaymentError,
    CJPaymentFailedError,
    CJPermanentError,
    CJQuotaExceededError,
    CJRateLimitedError,
    CJTransientError,
    classify,
)

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "cj"


@pytest.mark.parametrize(
    ("sample", "endpoint", "error_class"),
    [
        ("error_1600001_invalid_token", "product/query", CJAuthError),
        ("error_1600002_missing_token", "product/query", CJAuthError),
        ("error_1600003_invalid_refresh_token", "authentication/refreshAccessToken", CJAuthError),
        ("error_1600200_rate_limited", "product/query", CJRateLimitedError),
        ("error_1600201_quota_used_up", "product/query", CJQuotaExceededError),
        ("error_daily_limit_too_many_requests", "product/listV2", CJQuotaExceededError),
        ("error_1600300_param", "product/listV2", CJPermanentError),
        ("error_1602001_product_not_found", "product/query", CJNotFoundError),
        ("error_1603100_order_not_found", "shopping/order/confirmOrder", CJNotFoundError),
        ("error_1604000_balance_insufficient", "shopping/pay/payBalance", CJBalanceInsufficientError),
        ("error_1605001_logistic_invalid", "shopping/order/createOrderV2", CJPermanentError),
        ("webhook_set_error_localhost", "webhook/set", CJPermanentError),
    ],
)
def test_error_samples_are_classified(sample, endpoint, error_class):
    envelope = json.loads((SAMPLES / f"{sample}.json").read_text())

    error = classify(
        code=envelope["code"], message=envelope["message"], endpoint=endpoint, request_id=envelope["requestId"]
    )

    assert type(error) is error_class
    assert (error.code, error.request_id, error.endpoint) == (envelope["code"], envelope["requestId"], endpoint)


@pytest.mark.parametrize(
    ("code", "http_status", "endpoint", "message", "error_class"),
    [
        (1600000, 200, "product/query", "busy", CJTransientError),
        (1600301, 200, "product/query", "read timed out", CJTransientError),
        (None, 502, "product/query", "", CJTransientError),
        (None, 429, "product/query", "", CJRateLimitedError),
        (1600005, 200, "authentication/getAccessToken", "wrong key", CJAuthError),
        (1601000, 200, "authentication/getAccessToken", "User not find", CJAuthError),
        (1602000, 200, "product/variant/queryByVid", "", CJNotFoundError),
        (1602002, 200, "product/query", "", CJNotFoundError),
        (1602003, 200, "product/variant/queryByVid", "", CJNotFoundError),
        (1600300, 200, "shopping/order/getOrderDetail", "order not found", CJNotFoundError),
        # By code, not text (CJ says messages change): the client never sends an empty id to getOrderDetail.
        (1600300, 200, "shopping/order/getOrderDetail", "Auftrag existiert nicht", CJNotFoundError),
        (1600300, 200, "shopping/order/createOrderV2", "order not found", CJPermanentError),
        # CJ's own examples answer "Param error" with 1600100: a permanent rejection, never retried.
        (1600100, 200, "product/getCategory", "Param error", CJPermanentError),
        # Points used up (CJ's points page): HTTP 429 with code 429 is the day's quota, not a throttle.
        (429, 429, "logistic/freightCalculate", "Insufficient API points.", CJQuotaExceededError),
        (1600200, 429, "product/query", "Too much request", CJRateLimitedError),
        (1603003, 200, "shopping/order/createOrderV2", "already exists", CJDuplicateOrderError),
        (16900202, 200, "product/query", "method", CJPermanentError),
        (1604000, 200, "shopping/pay/payBalanceV2", "Balance is insufficient", CJBalanceInsufficientError),
        (1604001, 200, "shopping/pay/payBalanceV2", "pay in MyCJ", CJBalanceRestrictedError),
        (1603101, 200, "shopping/pay/payBalanceV2", "pay fail", CJPaymentFailedError),
        (1604000, 200, "shopping/order/createOrderV2", "Balance is insufficient", CJBalanceInsufficientError),
    ],
)
def test_codes_are_classified(code, http_status, endpoint, message, error_class):
    error = classify(code=code, message=message, endpoint=endpoint, request_id="r-1", http_status=http_status)

    assert type(error) is error_class


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (1602001, "variant_unavailable"),
        (1603102, "out_of_stock"),
        (1605001, "logistic_unavailable"),
        (1605002, "address_invalid"),
        (1604000, "balance_insufficient"),
        (1603003, "rejected"),
        (16900202, "rejected"),
    ],
)
def test_permanent_errors_carry_the_shops_reason(code, reason):
    error = classify(code=code, message="", endpoint="shopping/order/createOrderV2", request_id="r-1")

    assert isinstance(error, CJPermanentError)
    assert error.reason == reason


@pytest.mark.parametrize("code", [1604000, 1604001, 1603101])
def test_payment_refusals_are_permanent_payment_errors_never_retried(code):
    error = classify(code=code, message="refused", endpoint="shopping/pay/payBalanceV2", request_id="r-1")

    assert isinstance(error, CJPaymentError)
    assert isinstance(error, CJPermanentError)
    assert not isinstance(error, CJTransientError)
