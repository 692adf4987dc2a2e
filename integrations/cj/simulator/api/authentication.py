"""CJ's Authentication section: getAccessToken, refreshAccessToken, logout."""

import time
from typing import Any

from integrations.cj.simulator.api.wire import SimRequest, object_body, required
from integrations.cj.simulator.state import TOKEN_CACHE_WINDOW, SimError, Simulator


def get_access_token(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    body = object_body(request)
    required(request, "apiKey")
    if body["apiKey"] != sim.config.api_key:
        raise SimError(1600005, "apiKey is wrong, please check it")
    now = time.time() + sim.clock_offset
    if sim.last_login is not None and now - sim.last_login < sim.config.login_interval:
        sim.stats["throttled"] += 1
        raise sim.throttle_error("Too much request, getAccessToken may be called once every 300 seconds")
    sim.last_login = now
    sim.stats["get_access_token"] += 1
    token = sim.issue_token()
    return {
        "openId": sim.config.open_id,
        "accessToken": token.access_token,
        "accessTokenExpiryDate": sim.cj_date(token.access_expires),
        "refreshToken": token.refresh_token,
        "refreshTokenExpiryDate": sim.cj_date(token.refresh_expires),
        "createDate": sim.cj_date(sim.now()),
    }


def refresh_access_token(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    object_body(request)
    required(request, "refreshToken")
    now = time.time() + sim.clock_offset
    while sim.refresh_calls and sim.refresh_calls[0] <= now - 60:
        sim.refresh_calls.popleft()
    if len(sim.refresh_calls) >= sim.config.refresh_per_minute:
        sim.stats["throttled"] += 1
        raise sim.throttle_error("Too much request, refreshAccessToken is limited to 5 calls per minute")
    sim.refresh_calls.append(now)
    old = sim.refresh_index.get(str(request.field("refreshToken")))
    if old is None or old.refresh_expires <= sim.now():
        raise SimError(1600003, "Invalid refresh token")
    sim.stats["refresh_access_token"] += 1
    if sim.now() - old.issued_at < TOKEN_CACHE_WINDOW:
        # CJ's 24-hour token cache: the same pair comes back, so a refresh whose answer was lost
        # leaves the client's refresh token valid.
        token = old
        if token.access_expires <= sim.now():
            sim.renew_access_token(token)
    else:
        # A new pair; the previous one stops working: clients must share the new one.
        sim.tokens.pop(old.access_token, None)
        sim.refresh_index.pop(old.refresh_token, None)
        token = sim.issue_token()
    return {
        "accessToken": token.access_token,
        "accessTokenExpiryDate": sim.cj_date(token.access_expires),
        "refreshToken": token.refresh_token,
        "refreshTokenExpiryDate": sim.cj_date(token.refresh_expires),
        "createDate": sim.cj_date(sim.now()),
    }


def logout(sim: Simulator, request: SimRequest) -> bool:
    token = sim.tokens.pop(request.token or "", None)
    if token:
        sim.refresh_index.pop(token.refresh_token, None)
    return True
