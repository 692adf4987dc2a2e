"""/health: 200 when the critical parts work, 503 when PostgreSQL or Redis is down."""

import http.server
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django_rq.workers import get_worker

from config.queues import QUEUE_NAMES

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cj_stub(settings):
    """Something answering HTTP at CJ_API_BASE."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CJ_API_BASE = f"http://127.0.0.1:{server.server_address[1]}/api2.0/v1/"
    yield
    server.shutdown()


@pytest.fixture
def registered_worker():
    worker = get_worker(*QUEUE_NAMES)
    worker.register_birth()
    yield worker
    worker.register_death()


def test_everything_up_is_ok(client, cj_stub, registered_worker):
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: part["status"] for name, part in body["components"].items()} == {
        "database": "ok",
        "redis": "ok",
        "cj": "ok",
        "cj_points": "ok",
        "queues": "ok",
        "webhooks": "ok",
        "cj_balance": "ok",
    }
    assert body["components"]["queues"]["queues"] == {
        name: {"queued": 0, "failed": 0, "workers": 1, "alive": 1} for name in QUEUE_NAMES
    }
    assert all(part["latency_ms"] >= 0 for part in body["components"].values())


def test_missing_workers_and_cj_is_degraded_not_down(client, settings):
    settings.CJ_API_BASE = "http://127.0.0.1:9/"  # nothing listens on the discard port

    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["components"]["cj"]["status"] == "error"
    assert "no worker listening" in body["components"]["queues"]["error"]


def _health_in_subprocess(**env_overrides: str) -> tuple[int, dict, float]:
    code = (
        "import django, json, time; django.setup();"
        "from django.test import Client;"
        "t = time.monotonic(); r = Client(HTTP_HOST='localhost').get('/health');"
        "print(json.dumps([r.status_code, r.json(), time.monotonic() - t]))"
    )
    from django.db import connection

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "CJ_API_BASE": "http://127.0.0.1:9/",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    env.update(env_overrides)
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    status, body, elapsed = json.loads(result.stdout.strip().splitlines()[-1])
    return status, body, elapsed


def test_database_down_is_503():
    status, body, elapsed = _health_in_subprocess(DATABASE_URL="postgres://postgres@127.0.0.1:1/dropship")

    assert status == 503
    assert body["status"] == "down"
    assert body["components"]["database"]["status"] == "error"
    assert body["components"]["redis"]["status"] == "ok"
    assert elapsed < 2.5


def test_redis_down_is_503():
    status, body, elapsed = _health_in_subprocess(
        TEST_REDIS_URL="redis://127.0.0.1:1/14", TEST_REDIS_CACHE_URL="redis://127.0.0.1:1/15"
    )

    assert status == 503
    assert body["status"] == "down"
    assert body["components"]["redis"]["status"] == "error"
    assert body["components"]["database"]["status"] == "ok"
    assert elapsed < 2.5


def test_hanging_dependency_still_answers_within_two_seconds(client, settings):
    # A server that accepts the connection and never answers.
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    settings.CJ_API_BASE = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    try:
        started = time.monotonic()
        response = client.get("/health")
        elapsed = time.monotonic() - started
    finally:
        listener.close()

    assert response.status_code == 200
    assert response.json()["components"]["cj"]["status"] == "error"
    assert elapsed < 2.0
