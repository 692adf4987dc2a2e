"""Workers beat into PostgreSQL and register again when Redis forgot them; /health tells a dead
worker from a forgotten registration."""

from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone
from django_rq.workers import get_worker
from rq import Worker as RQWorker

from config.models import WorkerHeartbeat
from config.queues import CREATE_ORDER, PROCESS_WEBHOOK, QUEUE_NAMES, get_queue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker():
    running = get_worker(*QUEUE_NAMES)
    running.register_birth()
    yield running
    running.register_death()


def _queues(client) -> dict:
    return client.get("/health").json()["components"]["queues"]


def test_birth_writes_a_heartbeat_and_death_removes_it(worker):
    beat = WorkerHeartbeat.objects.get()
    assert (beat.name, beat.queues) == (worker.name, list(QUEUE_NAMES))

    worker.register_death()
    assert WorkerHeartbeat.objects.count() == 0
    worker.register_birth()  # for the fixture's teardown


def test_a_worker_redis_forgot_registers_again_on_its_next_heartbeat(worker, client):
    redis.Redis.from_url(django_settings.REDIS_URL).flushdb()  # Redis restarted without its data

    forgotten = _queues(client)
    assert forgotten["status"] == "ok"
    assert forgotten["queues"][CREATE_ORDER] == {"queued": 0, "failed": 0, "workers": 0, "alive": 1}
    assert forgotten["note"] == f"registration lost in Redis, workers alive: {', '.join(QUEUE_NAMES)}"

    worker.heartbeat()

    assert RQWorker.count(queue=get_queue(PROCESS_WEBHOOK)) == 1
    assert _queues(client)["queues"][PROCESS_WEBHOOK] == {"queued": 0, "failed": 0, "workers": 1, "alive": 1}
    assert "note" not in _queues(client)


def test_a_worker_still_listed_but_silent_is_dead(worker, client, settings):
    WorkerHeartbeat.objects.update(
        last_seen=timezone.now() - timedelta(seconds=3 * settings.WORKER_HEARTBEAT_SECONDS + 1)
    )

    queues = _queues(client)

    assert queues["status"] == "error"
    assert queues["queues"][CREATE_ORDER] == {"queued": 0, "failed": 0, "workers": 1, "alive": 0}
    assert queues["error"] == (
        f"no worker listening on {', '.join(QUEUE_NAMES)} (listed in Redis but silent for "
        f"{3 * settings.WORKER_HEARTBEAT_SECONDS} s: {', '.join(QUEUE_NAMES)})"
    )
