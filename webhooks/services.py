"""Webhook inbox use cases: store a received message, process it, replay or ignore it, sweep up
what was never processed, check the pause guard, and re-register with CJ.

Storing is one INSERT (a duplicate `messageId` is caught by the unique constraint and changes
nothing) and enqueues processing after commit. Processing holds the event's row lock while the
domain services run, so an event is applied at most once even if two jobs race.
"""

import json
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from catalog.jobs import products_sync_enqueue
from catalog.models import SyncRun
from config.queues import PROCESS_WEBHOOK, enqueue, enqueue_on_commit, get_queue, job_id
from integrations.cj.client import get_client
from orders.sweeps import orders_reconcile
from webhooks import selectors
from webhooks.dispatch import HANDLERS, PayloadError
from webhooks.messages import Message
from webhooks.models import WebhookEvent
from webhooks.stripe_dispatch import STRIPE_HANDLERS

logger = logging.getLogger(__name__)

PENDING_JOB_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
SWEEP_BATCH = 500
PROCESS_JOB = "webhooks.jobs.webhook_event_process_job"
# One RQ job id per event (`webhook-<id>`), so the sweeper can tell whether it is already queued.
PROCESS_JOB_KIND = "webhook"

_TABLE = WebhookEvent._meta.db_table


def _enqueue_processing_on_commit(event_id: int) -> None:
    enqueue_on_commit(PROCESS_WEBHOOK, PROCESS_JOB, event_id, job_id=job_id(PROCESS_JOB_KIND, event_id))


# One statement, so that outside a transaction the row is stored and committed in one round trip;
# a redelivered messageId inserts nothing and returns no id.
_STORE_SQL = f"""
INSERT INTO {_TABLE} (provider, message_id, topic, message_type, raw_body, headers, params, remote_addr,
                     status, attempts, outcome, error, received_at, created_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, 0, '', '', NOW(), NOW(), NOW())
ON CONFLICT (provider, message_id) DO NOTHING
RETURNING id
"""  # noqa: S608 (the table name comes from the model)


def webhook_event_store(
    *,
    message: Message,
    headers: Mapping[str, str],
    remote_addr: str | None,
    provider: str = WebhookEvent.Provider.CJ,
) -> int | None:
    """Store a verified message once and enqueue its processing after commit.

    Returns the new event's id, or None for a redelivery of a stored messageId (nothing changes).
    A Redis outage only skips the enqueue (logged); the sweeper catches up.
    """
    row = (provider, message.message_id, message.topic, message.message_type, message.text,
           json.dumps(dict(headers)), json.dumps(message.params), remote_addr or None,
           WebhookEvent.Status.RECEIVED)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_STORE_SQL, row)
        stored = cursor.fetchone()
    if stored is None:
        logger.info("webhooks.duplicate", extra={"message_id": message.message_id, "topic": message.topic})
        return None
    event_id = stored[0]
    _enqueue_processing_on_commit(event_id)
    logger.info(
        "webhooks.received", extra={"event_id": event_id, "message_id": message.message_id, "topic": message.topic}
    )
    return event_id


# Processing reads and writes the event's row with plain SQL: in a forked work horse, the ORM's
# select_for_update().get() and save() cost more Python than their SQL (figures in bench/NOTES.md).
_PROCESS_FIELDS = (
    "id", "provider", "message_id", "topic", "message_type", "params", "status", "attempts", "outcome", "error",
    "received_at",
)  # fmt: skip
_OUTCOME_SQL = f"""
UPDATE {_TABLE}
   SET status = %s, attempts = %s, outcome = %s, error = %s, processed_at = %s, updated_at = NOW()
 WHERE id = %s
"""  # noqa: S608 (the table name comes from the model)


def _event_lock(event_id: int) -> WebhookEvent | None:
    """The event's row, locked until commit, with the fields processing needs (others deferred)."""
    fields = [field for field in WebhookEvent._meta.concrete_fields if field.attname in _PROCESS_FIELDS]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {_TABLE} WHERE id = %s FOR UPDATE", [event_id])  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for field, value in zip(fields, row, strict=True):
        # JSON text to Python, as the ORM does. (Every model field has get_db_converters; django-stubs'
        # Field lacks it, hence the ignore.)
        for converter in field.get_db_converters(connection):  # type: ignore[attr-defined]
            value = converter(value, field, connection)
        values.append(value)
    return WebhookEvent.from_db(connection.alias, [field.attname for field in fields], values)


def webhook_event_process(*, event_id: int, is_last_attempt: bool = True) -> WebhookEvent | None:
    """Apply one stored event through the domain services and record the outcome on the row.

    Unknown types become `ignored`; a malformed payload `failed` at once. Any other error is
    recorded and re-raised so that RQ retries; on the last attempt the event becomes `failed`.
    Final events are left alone (idempotent). Returns None when the event is gone.
    """
    failure: Exception | None = None
    with transaction.atomic():
        event = _event_lock(event_id)
        if event is None:
            return None
        if event.is_final:
            return event
        event.attempts += 1
        handlers = STRIPE_HANDLERS if event.provider == WebhookEvent.Provider.STRIPE else HANDLERS
        handler = handlers.get(event.topic)
        if handler is None:
            event.status, event.outcome = WebhookEvent.Status.IGNORED, f"type {event.topic} is not handled"
        else:
            try:
                with transaction.atomic():
                    event.outcome = handler(event)[:500]
                event.status, event.error = WebhookEvent.Status.PROCESSED, ""
            except PayloadError as error:
                event.status, event.error = WebhookEvent.Status.FAILED, f"Invalid payload: {error}"
            except Exception as error:
                failure = error
                event.error = f"{type(error).__name__}: {error}"[:2000]
                event.status = WebhookEvent.Status.FAILED if is_last_attempt else WebhookEvent.Status.RECEIVED
        if event.status != WebhookEvent.Status.RECEIVED:
            event.processed_at = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                _OUTCOME_SQL, [event.status, event.attempts, event.outcome, event.error, event.processed_at, event.pk]
            )
    fields = {"event_id": event.pk, "topic": event.topic, "status": event.status, "attempt": event.attempts}
    if event.status == WebhookEvent.Status.FAILED:
        logger.error("webhooks.process.failed", extra={**fields, "error": event.error})
    else:
        logger.info("webhooks.process.done", extra={**fields, "outcome": event.outcome})
    if failure is not None:
        raise failure
    return event


@transaction.atomic
def webhook_event_replay(*, event_id: int) -> WebhookEvent | None:
    """Put an event back to `received` and enqueue its processing after commit (admin "replay")."""
    event = WebhookEvent.objects.select_for_update().filter(pk=event_id).first()
    if event is None:
        return None
    event.status, event.error, event.outcome, event.processed_at = WebhookEvent.Status.RECEIVED, "", "", None
    event.save(update_fields=["status", "error", "outcome", "processed_at", "updated_at"])
    _enqueue_processing_on_commit(event.pk)
    logger.info("webhooks.replayed", extra={"event_id": event.pk, "topic": event.topic})
    return event


@transaction.atomic
def webhook_event_mark_ignored(*, event_id: int, reason: str = "Marked ignored by staff.") -> WebhookEvent | None:
    """Mark an unprocessed or failed event `ignored` (admin action); processed events are left as they are."""
    event = WebhookEvent.objects.select_for_update().filter(pk=event_id).first()
    if event is None or event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
        return event
    event.status, event.outcome, event.processed_at = WebhookEvent.Status.IGNORED, reason[:500], timezone.now()
    event.save(update_fields=["status", "outcome", "processed_at", "updated_at"])
    logger.info("webhooks.ignored", extra={"event_id": event.pk, "topic": event.topic})
    return event


def _has_pending_job(event_id: int) -> bool:
    """Whether the event's job will still run. A job's status can outlive its place in the queue
    (a Redis restored from an older snapshot), so a queued or scheduled job must also be found
    where the worker or the scheduler will look for it."""
    queue = get_queue(PROCESS_WEBHOOK)
    event_job_id = job_id(PROCESS_JOB_KIND, event_id)
    try:
        job = Job.fetch(event_job_id, connection=queue.connection)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status == JobStatus.QUEUED:
        return queue.connection.lpos(queue.key, event_job_id) is not None
    if status == JobStatus.SCHEDULED:
        return event_job_id in queue.scheduled_job_registry
    return status in PENDING_JOB_STATUSES


def webhook_events_sweep(*, older_than_seconds: int | None = None) -> dict[str, int]:
    """Enqueue stored events that were never processed (their enqueue was lost while Redis was
    down, or their worker died). Raises redis.RedisError when Redis is still down."""
    older_than = settings.WEBHOOKS_SWEEP_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    event_ids = selectors.webhook_event_ids_unprocessed(received_before_seconds=older_than, limit=SWEEP_BATCH)
    counts = {"found": len(event_ids), "enqueued": 0, "already_queued": 0}
    for event_id in event_ids:
        if _has_pending_job(event_id):
            counts["already_queued"] += 1
            continue
        enqueue(PROCESS_WEBHOOK, PROCESS_JOB, event_id, job_id=job_id(PROCESS_JOB_KIND, event_id))
        counts["enqueued"] += 1
    logger.info("webhooks.sweep.done", extra=counts)
    return counts


# --- pause guard --------------------------------------------------------------------------------
def webhooks_pause_guard_check() -> selectors.PauseGuardStats:
    """Compute the last hour's failure shares and log an alert line when one is above the threshold."""
    stats = selectors.webhook_pause_guard_stats()
    if stats.is_alerting:
        logger.error(
            "webhooks.pause_guard.alert",
            extra={
                "answer_failure_ratio": stats.answer_failure_ratio,
                "processing_failure_ratio": stats.processing_failure_ratio,
                "answers_failed": stats.answers_failed,
                "answers_total": stats.answers_total,
                "events_failed": stats.events_failed,
                "events_total": stats.events_total,
                "threshold": stats.threshold,
            },
        )
    return stats


# --- registration with CJ and catching up after a pause -----------------------------------------
def webhook_register(*, callback_url: str) -> None:
    """Register (or re-register, which lifts CJ's pause) our callback URL with CJ's `webhook/set`.

    Raises the CJ client's errors (CJTransientError when CJ is unreachable, CJPermanentError when
    CJ refuses the URL)."""
    get_client().set_webhook(callback_url=callback_url, enable=True)
    logger.info("webhooks.registered", extra={"callback_url": callback_url})


def webhooks_reconcile() -> dict[str, Any]:
    """Catch up on what a pause may have hidden: enqueue an incremental catalog sync and a CJ status
    check of every open order. Raises redis.RedisError when Redis is down."""
    sync_job = products_sync_enqueue(kind=SyncRun.Kind.INCREMENTAL, trigger=SyncRun.Trigger.COMMAND)
    summary = {"sync_job_id": sync_job.id, "order_status_checks": orders_reconcile()}
    logger.info("webhooks.reconcile.enqueued", extra=summary)
    return summary
