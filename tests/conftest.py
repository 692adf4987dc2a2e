"""Shared fixtures: API clients, users, flushed Redis databases and a real burst worker."""

import logging
from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from config.logging import JsonFormatter, RequestIdFilter
from config.queues import QUEUE_NAMES

pytest_plugins = ["tests.cj_fixtures", "tests.stripe_fixtures"]


@pytest.fixture(autouse=True)
def _flush_redis() -> Iterator[None]:
    """Every test starts with empty queues and caches (the suite's own Redis databases)."""
    # config.test_settings points both at the suite's own Redis databases; never flush others.
    # live_server (session-wide) wraps settings in override holders whose SETTINGS_MODULE is None.
    wrapped = settings._wrapped
    while getattr(wrapped, "default_settings", None) is not None and wrapped.SETTINGS_MODULE is None:
        wrapped = wrapped.default_settings
    assert wrapped.SETTINGS_MODULE == "config.test_settings"
    for url in (settings.REDIS_URL, settings.REDIS_CACHE_URL):
        redis.Redis.from_url(url).flushdb()
    yield


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user(username="staff", password="pw-staff-1", is_staff=True)


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


@pytest.fixture
def run_worker() -> Callable[..., dict[str, int]]:
    """Run the project's real RQ worker in burst mode on the given queues (default: all four).

    Needs a transactional test (`transactional_db`): the forked work horse reads committed rows.
    Returns how many jobs the queues' finished and failed registries gained.
    """

    def _run(*queue_names: str) -> dict[str, int]:
        from django_rq.workers import get_worker

        worker = get_worker(*(queue_names or QUEUE_NAMES))

        def counts() -> dict[str, int]:
            return {
                "finished": sum(q.finished_job_registry.count for q in worker.queues),
                "failed": sum(q.failed_job_registry.count for q in worker.queues),
            }

        before = counts()
        worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
        after = counts()
        return {key: after[key] - before[key] for key in after}

    return _run


@pytest.fixture
def json_log_file(tmp_path) -> Iterator[Callable[[], list[dict]]]:
    """Capture JSON log lines to a file (visible from forked work horses too); yields a reader."""
    import json

    path = tmp_path / "log.jsonl"
    handler = logging.FileHandler(path)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)

    def read() -> list[dict]:
        handler.flush()
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    yield read
    root.removeHandler(handler)
    handler.close()
