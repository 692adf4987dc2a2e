"""Queue entry points of the webhook inbox (`process-webhook` queue)."""

from typing import Any

from rq import get_current_job

from webhooks.services import webhook_event_process, webhook_events_sweep, webhooks_pause_guard_check


def webhook_event_process_job(event_id: int) -> str | None:
    """Process one stored event; transient errors raise so RQ retries, the last one marks it failed."""
    job = get_current_job()
    is_last_attempt = job is None or not job.retries_left
    event = webhook_event_process(event_id=event_id, is_last_attempt=is_last_attempt)
    return event.status if event else None


def webhooks_sweep_scheduled_job() -> dict[str, Any]:
    """Periodic: enqueue events stored but never processed, and log an alert when the pause guard trips."""
    counts: dict[str, Any] = dict(webhook_events_sweep())
    counts["is_alerting"] = webhooks_pause_guard_check().is_alerting
    return counts
