"""The client's address, decided once for the whole project by `TRUSTED_PROXY_COUNT`.

Only the proxies we run may name the client: with `TRUSTED_PROXY_COUNT = 0` every forwarded
header is ignored and the socket's address (`REMOTE_ADDR`) is the client; with N proxies in front,
the N-th entry of `X-Forwarded-For` from the right is, since each proxy appends the address it
saw and anything further left was written by the caller. DRF's throttles follow the same rule
through `NUM_PROXIES` (set from the same setting), so throttles, the admin lock-out and the
request log agree on who a caller is.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The address that names the client of `request`, or None when the socket gave none."""
    remote_addr = request.META.get("REMOTE_ADDR") or None
    proxy_count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxy_count <= 0 or not forwarded:
        return remote_addr
    entries = [entry.strip() for entry in forwarded.split(",")]
    # A shorter header than the proxies we trust means a request that bypassed one of them: the
    # left-most entry is then the nearest we have, as in DRF's NUM_PROXIES.
    return entries[-min(proxy_count, len(entries))] or remote_addr


def is_loopback(address: str | None) -> bool:
    """Whether `address` (an IP literal, IPv4-mapped IPv6 included) is a loopback address."""
    if not address:
        return False
    try:
        parsed = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped.is_loopback
    return parsed.is_loopback
