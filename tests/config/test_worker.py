"""The project's worker class on a real burst worker: horses inherit the worker's imports and cache
clients (but connect to Redis on their own) and a PostgreSQL session the worker opened for them;
the worker holds no session while RQ may fork its scheduler, runs its maintenance at least every
interval, and waits for Redis after an outage."""

import sys
import time

import pytest
import redis
from django.core.cache import caches
from django.db import connection, connections

from config.queues import PROCESS_WEBHOOK, default_retry, enqueue, get_queue
from config.worker import Worker, redis_wait

pytestmark = [pytest.mark.django_db(transaction=True)]


def horse_state_job() -> dict[str, bool]:
    """Runs in a forked horse: what it inherited from the worker, and whether its cache works."""
    products = caches["products"]
    inherited = products._client is not None
    products.set("horse-probe", "from the horse", 30)
    return {
        "cache_client_inherited": inherited,
        "cache_works": products.get("horse-probe") == "from the horse",
        "jobs_modules_loaded": all(name in sys.modules for name in ("catalog.jobs", "orders.jobs", "webhooks.jobs")),
    }


def test_horses_inherit_the_preloaded_cache_client_and_still_connect_on_their_own(run_worker):
    # given: no cache client built in this process yet, and one in use by the parent afterwards
    if hasattr(caches._connections, "products"):
        del caches["products"]
    job = enqueue(PROCESS_WEBHOOK, horse_state_job)

    # when
    processed = run_worker(PROCESS_WEBHOOK)

    # then
    assert processed == {"finished": 1, "failed": 0}
    assert job.latest_result().return_value == {
        "cache_client_inherited": True,
        "cache_works": True,
        "jobs_modules_loaded": True,
    }
    assert caches["products"].get("horse-probe") == "from the horse"


def horse_session_job(pause: float = 0.3) -> dict:
    """Runs in a forked horse: whether it started with a session, and that session's use."""
    inherited = connections["default"].connection is not None
    time.sleep(pause)  # the worker has let go of its copy by now
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend_pid,) = cursor.fetchone()
    return {"inherited": inherited, "backend_pid": backend_pid}


def terminate_other_sessions_job() -> int:
    """Ends the sessions opened on this database after this horse's own: the one the worker opened
    for the next horse (not the test's, nor a live server's, which are older)."""
    time.sleep(0.3)  # the worker opens it right after forking this horse
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            " AND backend_start > (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())"
        )
        return cursor.fetchone()[0]


def session_alive(backend_pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend_pid])
        return cursor.fetchone()[0] == 1


def test_a_horse_works_on_the_session_its_worker_opened_and_ends_it(run_worker):
    # given
    first, second = enqueue(PROCESS_WEBHOOK, horse_session_job), enqueue(PROCESS_WEBHOOK, horse_session_job)

    # when
    processed = run_worker(PROCESS_WEBHOOK)

    # then: each horse found a session open, used it after the worker let go of its copy, and ended it
    assert processed == {"finished": 2, "failed": 0}
    results = [first.latest_result().return_value, second.latest_result().return_value]
    assert [result["inherited"] for result in results] == [True, True]
    horse_pids = {result["backend_pid"] for result in results}
    assert len(horse_pids) == 2
    assert connection.connection.info.backend_pid not in horse_pids  # the worker holds the next one
    deadline = time.monotonic() + 5
    while any(session_alive(pid) for pid in horse_pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(session_alive(pid) for pid in horse_pids)


def test_a_horse_whose_inherited_session_died_connects_anew(run_worker):
    # given: the first job ends the session the worker opened for the second
    killer = enqueue(PROCESS_WEBHOOK, terminate_other_sessions_job)
    survivor = enqueue(PROCESS_WEBHOOK, horse_session_job, 0)

    # when
    processed = run_worker(PROCESS_WEBHOOK)

    # then: the second job ran on a new session, at its first attempt
    assert processed == {"finished": 2, "failed": 0}
    assert killer.latest_result().return_value >= 1
    assert survivor.latest_result().return_value["inherited"] is True
    survivor.refresh()
    assert survivor.retries_left == default_retry().max
    connections.close_all()


def test_the_worker_holds_no_session_while_rq_may_fork_its_scheduler():
    # given: a worker holding the session it opened for its next horse
    queue = get_queue(PROCESS_WEBHOOK)
    worker = Worker([queue], connection=queue.connection)
    enqueue(PROCESS_WEBHOOK, horse_session_job, 0)
    worker.work(burst=True, logging_level="WARNING")
    assert connections["default"].connection is not None

    # when: the maintenance, which starts RQ's scheduler (a fork) when none runs
    worker.run_maintenance_tasks()

    # then
    assert connections["default"].connection is None


def test_an_idle_worker_runs_its_maintenance_at_least_every_interval(settings):
    """RQ blocks an idle worker for worker_ttl - 15 s (405 s by default) between maintenance runs,
    which is when a killed worker's jobs are retried; ours blocks no longer than the interval."""
    worker = Worker([get_queue(PROCESS_WEBHOOK)], connection=get_queue(PROCESS_WEBHOOK).connection)
    assert worker.worker_ttl - 15 > settings.RQ_MAINTENANCE_INTERVAL
    # and no longer than the heartbeat period (each dequeue beats into PostgreSQL)
    assert worker.dequeue_timeout == min(settings.RQ_MAINTENANCE_INTERVAL, settings.WORKER_HEARTBEAT_SECONDS)


def test_redis_wait_returns_when_redis_answers_and_gives_up_when_asked():
    assert redis_wait(get_queue(PROCESS_WEBHOOK).connection) is True
    refusing = redis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.2)  # discard port: closed
    calls = []
    assert redis_wait(refusing, give_up=lambda: calls.append(1) or len(calls) > 2) is False
    assert len(calls) == 3


def test_django_rq_runs_this_worker_class():
    from django_rq.workers import get_worker

    assert type(get_worker(PROCESS_WEBHOOK)) is Worker
