"""Jobs enqueued after commit run on a real burst worker, carrying the enqueuing request's id;
queue connections come from REDIS_URL with short timeouts."""

import socket
import time

import pytest

from config.queues import PROCESS_WEBHOOK, get_queue

pytestmark = [pytest.mark.urls("tests.config.urls"), pytest.mark.django_db(transaction=True)]


def test_job_enqueued_in_request_runs_with_its_request_id(api_client, run_worker, json_log_file):
    response = api_client.post("/api/test/enqueue", {"marker": "m-1"}, format="json", HTTP_X_REQUEST_ID="req-enqueue-1")
    assert response.status_code == 202
    assert get_queue(PROCESS_WEBHOOK).count == 1

    processed = run_worker(PROCESS_WEBHOOK)

    assert processed == {"finished": 1, "failed": 0}
    ran = [line for line in json_log_file() if line["message"] == "tests.job.ran"]
    assert len(ran) == 1
    assert ran[0]["marker"] == "m-1"
    assert ran[0]["request_id"] == "req-enqueue-1"
    finished = [line for line in json_log_file() if line["message"] == "jobs.finished"]
    assert [(line["queue"], line["request_id"]) for line in finished] == [(PROCESS_WEBHOOK, "req-enqueue-1")]


def test_job_enqueued_in_rolled_back_transaction_never_runs(api_client, run_worker, json_log_file):
    response = api_client.post("/api/test/enqueue", {"marker": "m-2", "rollback": True}, format="json")
    assert response.status_code == 202

    assert get_queue(PROCESS_WEBHOOK).count == 0
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 0, "failed": 0}
    assert [line for line in json_log_file() if line["message"] == "tests.job.ran"] == []


def test_queue_connections_come_from_redis_url_with_timeouts_and_built_driver_info():
    from django.core.exceptions import ImproperlyConfigured

    from config.settings import REDIS_DRIVER_INFO, _rq_connection

    config = _rq_connection("rediss://jobs:not-a-secret@redis.internal:6380/3")

    assert {key: config[key] for key in ("HOST", "PORT", "DB", "USERNAME", "PASSWORD", "SSL")} == {
        "HOST": "redis.internal", "PORT": 6380, "DB": 3, "USERNAME": "jobs", "PASSWORD": "not-a-secret", "SSL": True,
    }  # fmt: skip
    assert config["REDIS_CLIENT_KWARGS"]["retry"].get_retries() == 0  # the workers' connections: no retries either
    kwargs = get_queue(PROCESS_WEBHOOK).connection.connection_pool.connection_kwargs
    assert (kwargs["socket_connect_timeout"], kwargs["socket_timeout"], kwargs["driver_info"]) == (
        0.5,
        0.5,
        REDIS_DRIVER_INFO,
    )
    assert kwargs["retry"].get_retries() == 0
    with pytest.raises(ImproperlyConfigured):
        _rq_connection("unix:///run/redis.sock")


class _SilentRedis:
    """A TCP server that accepts connections and never answers: a stopped (SIGSTOP) or stalled Redis."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def silent_redis(settings):
    server = _SilentRedis()
    original = settings.RQ_QUEUES
    settings.RQ_QUEUES = {name: {**config, "PORT": server.port} for name, config in original.items()}
    yield original
    settings.RQ_QUEUES = original
    server.close()


def test_enqueue_against_a_stalled_redis_gives_up_within_the_budget_then_skips_until_the_probe(
    silent_redis, settings, json_log_file
):
    import redis

    from config.queues import enqueue, enqueue_outage

    settings.REDIS_OUTAGE_PROBE_SECONDS = 1
    started = time.perf_counter()
    with pytest.raises(redis.TimeoutError):
        enqueue(PROCESS_WEBHOOK, "tests.config.views_for_tests.record_job", "m")
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(20):
        with pytest.raises(redis.ConnectionError):
            enqueue(PROCESS_WEBHOOK, "tests.config.views_for_tests.record_job", "m")
    skipped = time.perf_counter() - started

    assert 0.4 <= first < 0.8  # REDIS_REQUEST_TIMEOUT (0.5 s), no redis-py retries
    assert skipped < 0.05  # known outage: no attempt until the next probe
    outage_lines = [line for line in json_log_file() if line["message"].startswith("jobs.enqueue.")]
    assert [(line["message"], line["queue"]) for line in outage_lines] == [("jobs.enqueue.outage", PROCESS_WEBHOOK)]
    assert enqueue_outage.skipped == 20

    # Redis is back: the next probe succeeds and logs the recovery once, with counts
    settings.RQ_QUEUES = silent_redis
    time.sleep(1.1)
    enqueue(PROCESS_WEBHOOK, "tests.config.views_for_tests.record_job", "m")
    recovered = [line for line in json_log_file() if line["message"] == "jobs.enqueue.recovered"]
    assert [(line["failed_attempts"], line["skipped"]) for line in recovered] == [(1, 20)]
    assert get_queue(PROCESS_WEBHOOK).count == 1
