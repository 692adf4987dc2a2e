"""The admin lock-out's two limits: per account (username + address) and per address.

django-axes compares one number, the largest failure count among its lockout parameter sets
(`AXES_LOCKOUT_PARAMETERS`: username + address, and address alone), with one limit per request.
Answering the account limit once that account has reached it, and the higher address limit
otherwise, locks out exactly when either count reaches its own limit: a typo-prone office behind
one address is not locked out by a few mistakes, while one address trying a few passwords on
every account is.
"""

from typing import Any

from axes.helpers import get_client_username  # type: ignore[import-untyped]  # django-axes ships no types
from axes.models import AccessAttempt  # type: ignore[import-untyped]  # django-axes ships no types
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from config.client_address import client_address


def login_failure_limit(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """`AXES_FAILURE_LIMIT`: the account limit once this account has reached it, else the address
    limit. Reads the account's recent failures (one query); raises nothing."""
    account_limit: int = settings.LOGIN_ACCOUNT_FAILURE_LIMIT
    address = getattr(request, "axes_ip_address", None) or client_address(request)
    account_failures = (
        AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=address,
            attempt_time__gte=(getattr(request, "axes_attempt_time", None) or timezone.now())
            - settings.AXES_COOLOFF_TIME,
        ).aggregate(total=Sum("failures_since_start"))["total"]
        or 0
    )
    if account_failures >= account_limit:
        return account_limit
    address_limit: int = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    return address_limit
