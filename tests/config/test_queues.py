"""Jobs enqueued after commit run on a real burst worker, carrying the enqueuing request's id;
queue connections come from REDIS_URL with short timeouts."""

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
    kwargs = get_queue(PROCESS_WEBHOOK).connection.connection_pool.connection_kwargs
    assert (kwargs["socket_connect_timeout"], kwargs["driver_info"]) == (1, REDIS_DRIVER_INFO)
    with pytest.raises(ImproperlyConfigured):
        _rq_connection("unix:///run/redis.sock")
