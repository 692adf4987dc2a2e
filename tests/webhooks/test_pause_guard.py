"""The pause guard: failure shares of the last hour in /metrics and /health, and the alert line."""

import pytest

from tests.webhooks.conftest import message, post_signed
from webhooks.jobs import webhooks_sweep_scheduled_job
from webhooks.models import WebhookEvent
from webhooks.selectors import webhook_pause_guard_stats, webhook_rejection_counts


def answer(client, *, ok: int, rejected: int) -> None:
    """`ok` signed deliveries answered 200, `rejected` signed deliveries answered 400 (no messageId):
    both are CJ's own deliveries, so both count in the guard."""
    for index in range(ok):
        assert post_signed(client, message("SOURCINGCREATE", {}, message_id=f"ok-{index}")).status_code == 200
    for index in range(rejected):
        assert post_signed(client, {"type": "STOCK", "params": {"n": index}}).status_code == 400


def metrics_text(client, settings) -> str:
    settings.METRICS_TOKEN = "metrics-test-token"
    return client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-test-token").content.decode()


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
def test_health_is_degraded_and_metrics_show_the_shares(client, settings):
    answer(client, ok=5, rejected=5)

    health = client.get("/health").json()
    metrics = metrics_text(client, settings)

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
    assert 'cj_webhook_rejected_total{reason="bad_signature"} 0.0' in metrics
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


@pytest.mark.django_db
def test_unsigned_or_badly_signed_posts_never_reach_the_guard(client, settings, json_log_file):
    # given: a stranger posts 50 times without a valid signature, and CJ delivers 3 times
    for index in range(25):
        assert post_signed(client, message("STOCK", {}, message_id=f"u-{index}"), signature=None).status_code == 401
        assert post_signed(client, message("STOCK", {}, message_id=f"w-{index}"), signature="AAAA").status_code == 401
    answer(client, ok=3, rejected=0)

    # when
    stats = webhook_pause_guard_stats()
    swept = webhooks_sweep_scheduled_job()
    health = client.get("/health").json()
    metrics = metrics_text(client, settings)

    # then: the guard counts CJ's 3 answers only and stays silent; the 50 are counted apart
    assert (stats.answers_total, stats.answers_failed, stats.answer_failure_ratio, stats.is_alerting) == (
        3,
        0,
        0.0,
        False,
    )
    assert swept["is_alerting"] is False
    assert [line for line in json_log_file() if line["message"] == "webhooks.pause_guard.alert"] == []
    assert {key: health["components"]["webhooks"][key] for key in ("status", "answer_failure_ratio")} == {
        "status": "ok",
        "answer_failure_ratio": 0.0,
    }
    rejected = [line for line in metrics.splitlines() if line.startswith("cj_webhook_rejected_total")]
    assert rejected == [
        'cj_webhook_rejected_total{reason="missing_signature"} 25.0',
        'cj_webhook_rejected_total{reason="bad_signature"} 25.0',
        'cj_webhook_rejected_total{reason="too_large"} 0.0',
        'cj_webhook_rejected_total{reason="bad_content_length"} 0.0',
        'cj_webhook_rejected_total{reason="no_signing_key"} 0.0',
        'cj_webhook_rejected_total{reason="unverified"} 0.0',
    ]
    assert 'cj_webhook_answers{outcome="failed"} 0.0' in metrics
    security = [line["reason"] for line in json_log_file() if line["message"] == "security.webhook.bad_signature"]
    assert security == ["missing", "wrong"] * 25


@pytest.mark.django_db
def test_posts_too_large_to_verify_are_rejected_apart(client, settings, json_log_file):
    settings.WEBHOOKS_MAX_BODY_BYTES = 64

    response = post_signed(client, message("STOCK", {"padding": "x" * 100}))

    assert response.status_code == 413
    assert webhook_pause_guard_stats().answers_total == 0
    assert webhook_rejection_counts()["too_large"] == 1
    assert [(line["message"], line["reason"]) for line in json_log_file() if line["logger"] == "security"] == [
        ("security.webhook.rejected", "too_large")
    ]
