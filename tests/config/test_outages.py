"""One log line per outage and per recovery, with counts, instead of a traceback per attempt:
the Outage helper, the cache (django-redis' ignored errors) and RQ's reconnection lines."""

import logging

import pytest
import redis
from django.core.cache import caches

from config.outages import Outage


def test_an_outage_logs_once_counts_then_logs_the_recovery(caplog):
    outage = Outage(logging.getLogger("tests.outage"), "thing", probe_seconds=60)
    caplog.set_level(logging.INFO, logger="tests.outage")

    assert outage.allow()
    assert outage.failed(ConnectionError("refused")) is True
    assert [outage.allow() for _ in range(5)] == [False] * 5  # no probe before 60 s
    assert outage.failed(ConnectionError("refused")) is False
    assert outage.succeeded() is True
    assert outage.succeeded() is False

    assert [(r.message, getattr(r, "error", None)) for r in caplog.records][:1] == [
        ("thing.outage", "ConnectionError: refused")
    ]
    recovered = caplog.records[1]
    assert (recovered.message, recovered.failed_attempts, recovered.skipped) == ("thing.recovered", 2, 5)
    assert all(record.exc_info is None for record in caplog.records)
    assert len(caplog.records) == 2


@pytest.fixture
def dead_cache_redis(settings):
    """The caches pointed at a port nobody listens on."""
    from config.cache import cache_outage

    # Django's test signal handler rebuilds the cache handlers when CACHES changes
    settings.CACHES = {
        alias: {**config, "LOCATION": "redis://127.0.0.1:9/0"} for alias, config in settings.CACHES.items()
    }
    settings.REDIS_OUTAGE_PROBE_SECONDS = 60
    yield cache_outage
    cache_outage.succeeded()


def test_a_dead_cache_redis_is_one_line_then_calls_are_skipped(dead_cache_redis, json_log_file):
    cache = caches["products"]
    assert [cache.get(f"k{n}", "miss") for n in range(5)] == ["miss"] * 5
    assert cache.set("k", "v") is False

    lines = [line for line in json_log_file() if line["logger"] == "config.cache"]
    assert [line["message"] for line in lines] == ["cache.outage"]
    assert "exc_info" not in lines[0]
    assert dead_cache_redis.skipped == 5  # 4 reads and the write skipped after the first failure


def test_rqs_reconnection_lines_become_the_workers_outage(json_log_file):
    from config.queues import PROCESS_WEBHOOK, get_queue
    from config.worker import _REDIS_LOST_MESSAGE, Worker

    worker = Worker([get_queue(PROCESS_WEBHOOK)], connection=get_queue(PROCESS_WEBHOOK).connection)
    for delay in (1, 2, 4, 8):
        worker.log.error(_REDIS_LOST_MESSAGE, worker.name, redis.ConnectionError("refused"), delay)
    worker.redis_outage.succeeded(worker=worker.name)

    lines = [line for line in json_log_file() if line["message"].startswith(("jobs.worker_redis", "Worker "))]
    assert [line["message"] for line in lines] == ["jobs.worker_redis.outage", "jobs.worker_redis.recovered"]
    assert lines[1]["failed_attempts"] == 4
