"""The webhook events in the admin: list filters, the pretty-printed payload, replay and mark ignored,
and the dashboard panels."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone

from config.dashboard import dashboard_panels
from config.queues import PROCESS_WEBHOOK, get_queue
from webhooks import answers
from webhooks.models import WebhookEvent

CHANGELIST = "/admin/webhooks/webhookevent/"


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser(username="boss", password="pw-boss-1", email="boss@example.test")
    client.force_login(user)
    return client


@pytest.fixture
def events(db) -> dict[str, WebhookEvent]:
    return {
        "failed": WebhookEvent.objects.create(
            message_id="m-failed", topic="STOCK", raw_body='{"messageId":"m-failed","params":{"v":[1]}}',
            status="failed", error="ConnectionError: down", attempts=4,
        ),
        "done": WebhookEvent.objects.create(message_id="m-done", topic="ORDER", raw_body="{}", status="processed"),
    }  # fmt: skip


def test_list_filters_by_status_and_error(admin_client, events):
    failed = admin_client.get(CHANGELIST, {"status__exact": "failed"}).content.decode()
    with_error = admin_client.get(CHANGELIST, {"has_error": "yes"}).content.decode()
    orders = admin_client.get(CHANGELIST, {"topic": "ORDER"}).content.decode()

    assert ("m-failed" in failed, "m-done" in failed) == (True, False)
    assert ("m-failed" in with_error, "m-done" in with_error) == (True, False)
    assert ("m-failed" in orders, "m-done" in orders) == (False, True)


def test_detail_pretty_prints_the_payload(admin_client, events):
    page = admin_client.get(f"{CHANGELIST}{events['failed'].pk}/change/").content.decode()

    assert "{\n  &quot;messageId&quot;: &quot;m-failed&quot;,\n  &quot;params&quot;: {\n    &quot;v&quot;: [" in page
    assert "ConnectionError: down" in page


def test_replay_action_requeues(admin_client, events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": "replay", "_selected_action": [events["failed"].pk]}, follow=True
        )

    assert "1 event(s) queued for processing again." in response.content.decode()
    events["failed"].refresh_from_db()
    assert (events["failed"].status, events["failed"].error) == ("received", "")
    assert get_queue(PROCESS_WEBHOOK).job_ids == [f"webhook-{events['failed'].pk}"]


def test_mark_ignored_action_skips_processed_events(admin_client, events):
    response = admin_client.post(
        CHANGELIST,
        {"action": "mark_ignored", "_selected_action": [events["failed"].pk, events["done"].pk]},
        follow=True,
    )

    assert "1 event(s) marked ignored; 1 left as they were (already processed)." in response.content.decode()
    assert dict(WebhookEvent.objects.values_list("message_id", "status")) == {
        "m-failed": "ignored",
        "m-done": "processed",
    }


# --- dashboard ----------------------------------------------------------------------------------


def _webhook_panels(user) -> dict:
    request = RequestFactory().get("/admin/")
    request.user = user
    return {panel.key: panel for panel in dashboard_panels(request) if panel.key.startswith("webhooks-")}


def _events(statuses: dict[str, int], *, hours_ago: float = 0) -> None:
    received_at = timezone.now() - timedelta(hours=hours_ago)
    for status, total in statuses.items():
        for index in range(total):
            WebhookEvent.objects.create(
                message_id=f"{status}-{hours_ago}-{index}", topic="STOCK", raw_body="{}", status=status,
                received_at=received_at,
            )  # fmt: skip


def test_dashboard_counts_the_last_day_by_status_and_links_the_failed(admin_client, settings):
    # given: events of the last hour and of the last day, and older ones that no longer count
    settings.WEBHOOKS_ALERT_MIN_SAMPLES = 4
    _events({"processed": 3, "failed": 1})
    _events({"processed": 2, "failed": 2, "received": 1, "ignored": 1}, hours_ago=5)
    _events({"failed": 4, "processed": 1}, hours_ago=30)
    for status_code in (200, 200, 200, 401):
        answers.answer_record(status_code=status_code)
    user = get_user_model().objects.get(username="boss")

    # when
    panels = _webhook_panels(user)

    # then
    assert list(panels) == ["webhooks-by-status", "webhooks-pause-guard"]
    by_status = {item.label: (item.value, item.badge, item.share) for item in panels["webhooks-by-status"].items}
    assert by_status == {
        "Received": (1, "", 10.0),
        "Processed": (5, "ok", 50.0),
        "Ignored": (1, "", 10.0),
        "Failed": (3, "danger", 30.0),
    }
    failed_url = next(item.url for item in panels["webhooks-by-status"].items if item.label == "Failed")
    failed_page = admin_client.get(failed_url)
    assert failed_page.status_code == 200
    assert sorted(event.message_id for event in failed_page.context["cl"].result_list) == [
        "failed-0-0", "failed-5-0", "failed-5-1",
    ]  # fmt: skip
    assert admin_client.get(panels["webhooks-by-status"].url).context["cl"].result_count == 10
    guard = [(item.label, item.value, item.badge, item.hint) for item in panels["webhooks-pause-guard"].items]
    assert guard == [
        ("Answers other than 200", "25%", "warning", "1 of 4; alert above 20%"),
        ("Events failing to process", "25%", "warning", "1 of 4; alert above 20%"),
    ]
    failing_page = admin_client.get(panels["webhooks-pause-guard"].items[1].url)
    assert [event.message_id for event in failing_page.context["cl"].result_list] == ["failed-0-0"]
    dashboard = admin_client.get("/admin/").content.decode()
    assert 'id="panel-webhooks-by-status"' in dashboard
    assert 'class="crm-stat crm-stat--warning"' in dashboard


def test_dashboard_guard_is_ok_below_the_threshold_or_without_enough_samples(admin_client, settings):
    settings.WEBHOOKS_ALERT_MIN_SAMPLES = 10
    _events({"processed": 9, "failed": 1})
    for status_code in (200, 200, 500):
        answers.answer_record(status_code=status_code)
    user = get_user_model().objects.get(username="boss")

    guard = _webhook_panels(user)["webhooks-pause-guard"]

    assert [(item.value, item.badge, item.hint) for item in guard.items] == [
        ("0%", "ok", "1 of 3; under 10, not judged; alert above 20%"),
        ("10%", "ok", "1 of 10; alert above 20%"),
    ]
    assert 'class="crm-stat crm-stat--warning"' not in admin_client.get("/admin/").content.decode()


def test_dashboard_guard_says_when_answers_cannot_be_counted(admin_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/6"
    user = get_user_model().objects.get(username="boss")

    answers_item = _webhook_panels(user)["webhooks-pause-guard"].items[0]

    assert (answers_item.value, answers_item.badge) == ("n/a", "warning")
    assert answers_item.hint == "Redis unreachable: answers are not counted"


def test_dashboard_hides_webhook_panels_without_permission(db):
    user = get_user_model().objects.create_user(username="clerk", password="pw-clerk-1", is_staff=True)

    assert _webhook_panels(user) == {}
