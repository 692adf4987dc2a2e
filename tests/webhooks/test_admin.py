"""The webhook events in the admin: list filters, the pretty-printed payload, replay and mark ignored."""

import pytest
from django.contrib.auth import get_user_model

from config.queues import PROCESS_WEBHOOK, get_queue
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
