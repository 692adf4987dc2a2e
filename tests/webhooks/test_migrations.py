"""The migration that dropped the never-set `processing` status keeps every stored row valid."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("webhooks", "0001_initial")]
AFTER = [("webhooks", "0002_remove_processing_status")]


@pytest.mark.django_db(transaction=True)
def test_a_processing_event_becomes_received_before_the_constraint_changes():
    # given: the inbox as it was, with one event left `processing` and one processed
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_event = executor.loader.project_state(BEFORE).apps.get_model("webhooks", "WebhookEvent")
    stuck = old_event.objects.create(message_id="stuck", topic="STOCK", raw_body="{}", status="processing")
    done = old_event.objects.create(message_id="done", topic="STOCK", raw_body="{}", status="processed")

    # when
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    # then
    new_event = executor.loader.project_state(AFTER).apps.get_model("webhooks", "WebhookEvent")
    assert dict(new_event.objects.values_list("pk", "status")) == {stuck.pk: "received", done.pk: "processed"}
