"""/health: database, Redis, CJ reachability and queue status, each with its latency.

200 when the database and Redis answer (`ok`, or `degraded` when CJ or the workers are missing,
or the CJ balance is below its alert threshold);
503 when the database or Redis is down. Every check runs in a thread with a deadline, so the
answer comes within about 2 seconds even when a dependency hangs.
"""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta
from typing import Any

import redis
import requests
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from rq import Worker
from rq.registry import FailedJobRegistry

from config.queues import QUEUE_NAMES, get_queue

DEADLINE_SECONDS = 1.8
CRITICAL = ("database", "redis")
_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health")


def _check_database() -> dict[str, Any]:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()
    return {}


def _redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def _check_redis() -> dict[str, Any]:
    _redis_client().ping()
    return {}


def _check_cj() -> dict[str, Any]:
    """Reachability of CJ_API_BASE (any HTTP answer), remembered for CJ_HEALTH_CACHE_SECONDS."""
    cache_key = "health:cj"
    remembered = cache.get(cache_key)
    if remembered is None:
        try:
            response = requests.get(settings.CJ_API_BASE, timeout=(1, 1))
            remembered = {"reachable": True, "http_status": response.status_code}
        except requests.RequestException as error:
            remembered = {"reachable": False, "error": type(error).__name__}
        cache.set(cache_key, remembered, settings.CJ_HEALTH_CACHE_SECONDS)
    if not remembered["reachable"]:
        raise ConnectionError(f"CJ unreachable at {settings.CJ_API_BASE}: {remembered['error']}")
    from integrations.cj.metrics import budget_summary

    return {"http_status": remembered["http_status"], "budget": budget_summary()}


def _check_cj_points() -> dict[str, Any]:
    """The day's CJ points plan: used and left per purpose, the projection; error when it alerts."""
    from integrations.cj.points_plan import plan_summary

    plan = plan_summary().as_dict()
    if plan["alert"]:
        reason = (
            f"CJ refuses calls that cost points until {plan['exhausted_until']}"
            if plan["exhausted_until"]
            else f"projected balance {plan['projected_balance']} at 00:00 UTC is below the reserve {plan['reserve']}"
        )
        raise _Alerting(plan, reason)
    return plan


def _alive_workers() -> dict[str, int]:
    """Workers per queue whose PostgreSQL heartbeat is fresh (3 heartbeat periods)."""
    from config.models import WorkerHeartbeat

    fresh = timezone.now() - timedelta(seconds=3 * settings.WORKER_HEARTBEAT_SECONDS)
    alive: dict[str, int] = {}
    try:
        for queues in WorkerHeartbeat.objects.filter(last_seen__gte=fresh).values_list("queues", flat=True):
            for name in queues:
                alive[name] = alive.get(name, 0) + 1
    finally:
        connections["default"].close()  # this check thread's own connection
    return alive


def _check_queues() -> dict[str, Any]:
    """Per queue: jobs queued and failed, workers Redis lists (`workers`) and workers whose
    heartbeat is fresh in PostgreSQL (`alive`). A worker Redis forgot (restart, flush) but that
    still beats counts as alive (it registers again on its next heartbeat); a worker still listed
    but silent is dead."""
    alive = _alive_workers()
    queues = {}
    for name in QUEUE_NAMES:
        queue = get_queue(name)
        queues[name] = {
            "queued": queue.count,
            "failed": FailedJobRegistry(queue=queue).count,
            "workers": Worker.count(queue=queue),
            "alive": alive.get(name, 0),
        }
    dead = [name for name, stats in queues.items() if not stats["alive"]]
    if dead:
        listed = [name for name in dead if queues[name]["workers"]]
        detail = f" (listed in Redis but silent for {3 * settings.WORKER_HEARTBEAT_SECONDS} s: {', '.join(listed)})"
        raise _Degraded(queues, f"no worker listening on {', '.join(dead)}{detail if listed else ''}")
    forgotten = [name for name, stats in queues.items() if not stats["workers"]]
    if forgotten:
        return {"queues": queues, "note": f"registration lost in Redis, workers alive: {', '.join(forgotten)}"}
    return {"queues": queues}


def _check_webhooks() -> dict[str, Any]:
    """CJ pauses every push once half fail: degraded when the webhook failure share passes the alert threshold."""
    from webhooks.selectors import webhook_pause_guard_stats

    try:
        stats = webhook_pause_guard_stats()
    finally:
        connections["default"].close()  # this check thread's own connection
    if stats.is_alerting:
        raise RuntimeError(
            f"CJ webhook failures in the last hour: answers {stats.answer_failure_ratio:.0%}, processing "
            f"{stats.processing_failure_ratio:.0%} (threshold {stats.threshold:.0%}; CJ pauses pushes at 50%)"
        )
    return {
        "answer_failure_ratio": stats.answer_failure_ratio,
        "processing_failure_ratio": stats.processing_failure_ratio,
    }


def _check_cj_balance() -> dict[str, Any]:
    """The CJ balance at the last check: error (degraded) below CJ_BALANCE_ALERT_BELOW, before it runs out."""
    from orders.cj_balance import cj_balance_snapshot

    snapshot = cj_balance_snapshot()
    if snapshot is None:
        return {"amount": None, "checked_at": None, "alert_below": settings.CJ_BALANCE_ALERT_BELOW}
    if snapshot.is_alerting:
        raise RuntimeError(
            f"CJ balance {snapshot.amount} USD is below CJ_BALANCE_ALERT_BELOW {snapshot.alert_below} "
            f"(checked {snapshot.checked_at.isoformat()}): top it up in MyCJ"
        )
    return {
        "amount": str(snapshot.amount),
        "checked_at": snapshot.checked_at.isoformat(),
        "alert_below": str(snapshot.alert_below),
    }


class _Degraded(Exception):
    def __init__(self, details: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.details = details


class _Alerting(Exception):
    """A check whose figures stay in the answer while it reports an error."""

    def __init__(self, details: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.details = details


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": _check_database,
    "redis": _check_redis,
    "cj": _check_cj,
    "cj_points": _check_cj_points,
    "queues": _check_queues,
    "webhooks": _check_webhooks,
    "cj_balance": _check_cj_balance,
}


def _timed(check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result: dict[str, Any] = {"status": "ok", **check()}
    except _Degraded as degraded:
        result = {"status": "error", "error": str(degraded), "queues": degraded.details}
    except _Alerting as alerting:
        result = {**alerting.details, "status": "error", "error": str(alerting)}
    except Exception as error:
        result = {"status": "error", "error": f"{type(error).__name__}: {error}"[:300]}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


def collect_health() -> tuple[str, dict[str, Any]]:
    """Run every check in parallel under one deadline; return (overall status, components)."""
    futures = {name: _executor.submit(_timed, check) for name, check in CHECKS.items()}
    deadline = time.monotonic() + DEADLINE_SECONDS
    components: dict[str, Any] = {}
    for name, future in futures.items():
        try:
            components[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            components[name] = {"status": "error", "error": "timed out", "latency_ms": DEADLINE_SECONDS * 1000}
    if any(components[name]["status"] != "ok" for name in CRITICAL):
        return "down", components
    if any(component["status"] != "ok" for component in components.values()):
        return "degraded", components
    return "ok", components


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    status, components = collect_health()
    return JsonResponse({"status": status, "components": components}, status=503 if status == "down" else 200)
