"""The pause guard: failure shares of the last hour in /metrics and /health, and the alert line."""

import pytest

from tests.webhooks.conftest import message, post_signed
from webhooks.jobs import webhooks_sweep_scheduled_job
from webhooks.models import WebhookEvent
from webhooks.selectors import webhook_pause_guard_stats


def answer(client, *, ok: int, rejected: int) -> None:
    for index in range(ok):
        assert post_signed(client, message("SOURCINGCREATE", {}, message_id=f"ok-{index}")).status_code == 200
    for index in range(rejected):
        assert post_signed(client, message("STOCK", {}, message_id=f"bad-{index}"), signature="AAAA").status_code == 401


@pytest.mark.django_db
def test_rejected_answers_above_the_threshold_alert(client, json_log_file):
    answer(client, ok=7, rejected=3)

    stats = webhook_pause_guard_stats()

    assert (stats.answers_total, stats.answers_failed, stats.answer_failure_ratio) == (10, 3, 0.3)
    assert (stats.events_total, stats.processing_failure_ratio, stats.is_alerting) == (0, 0.0, True)
    result = webhooks_sweep_scheduled_job()
    assert result == {"found": 0, "enqueued": 0, "already_queued": 0, "is_alerting": True}
    alerts = [line for line in json_log_file() if line["message"] == "webhooks.pause_guard.alert"]
    assert [(line["level"], line["answers_failed"], line["answers_total"]) for line in alerts] == [("ERROR", 3, 10)]


@pytest.mark.django_db
def test_few_answers_or_a_low_share_do_not_alert(client, json_log_file):
    answer(client, ok=9, rejected=1)

    assert webhook_pause_guard_stats().is_alerting is False
    assert webhooks_sweep_scheduled_job()["is_alerting"] is False
    assert [line for line in json_log_file() if line["message"] == "webhooks.pause_guard.alert"] == []


@pytest.mark.django_db
def test_processing_failures_count_too(settings):
    settings.WEBHOOKS_ALERT_MIN_SAMPLES = 4
    for index, status in enumerate(["processed", "processed", "failed", "ignored"]):
        WebhookEvent.objects.create(message_id=f"m{index}", topic="STOCK", raw_body="{}", status=status)
    WebhookEvent.objects.create(message_id="waiting", topic="STOCK", raw_body="{}")  # not decided yet

    stats = webhook_pause_guard_stats()

    assert (stats.events_total, stats.events_failed, stats.processing_failure_ratio) == (4, 1, 0.25)
    assert stats.is_alerting is True


@pytest.mark.django_db
def test_health_is_degraded_and_metrics_show_the_shares(client):
    answer(client, ok=5, rejected=5)

    health = client.get("/health").json()
    metrics = client.get("/metrics").content.decode()

    assert health["status"] == "degraded"
    assert health["components"]["webhooks"]["status"] == "error"
    assert health["components"]["webhooks"]["error"].startswith(
        "RuntimeError: CJ webhook failures in the last hour: answers 50%, processing 0% (threshold 20%"
    )
    assert 'cj_webhook_failure_ratio{kind="answers"} 0.5' in metrics
    assert 'cj_webhook_answers{outcome="failed"} 5.0' in metrics
    assert "cj_webhook_guard_alerting 1.0" in metrics
    assert 'cj_webhook_events{status="ignored"} 0.0' in metrics
    assert 'cj_webhook_events{status="received"} 5.0' in metrics
    assert 'cj_webhook_events{status="processing"}' not in metrics


@pytest.mark.django_db
def test_health_reports_the_shares_when_healthy(client):
    answer(client, ok=3, rejected=0)

    component = client.get("/health").json()["components"]["webhooks"]

    assert {key: component[key] for key in ("status", "answer_failure_ratio", "processing_failure_ratio")} == {
        "status": "ok",
        "answer_failure_ratio": 0.0,
        "processing_failure_ratio": 0.0,
    }
