"""Jobs run on a real burst worker after commit, carrying the enqueuing request's id."""

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
