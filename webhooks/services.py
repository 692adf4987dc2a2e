"""Webhook inbox use cases: store a received message, process it, replay or ignore it, sweep up
what was never processed, check the pause guard, and re-register with CJ.

Storing is one INSERT (a duplicate `messageId` is caught by the unique constraint and changes
nothing) and enqueues processing after commit. Processing holds the event's row lock while the
domain services run, so an event is applied at most once even if two jobs race. STOCK events are
applied in batches: one job takes the STOCK events waiting behind its own (the catch-up after a
burst or an outage; measured by bench/webhooks.py).
"""

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from catalog.jobs import products_sync_enqueue
from catalog.models import SyncRun
from config.queues import PROCESS_WEBHOOK, enqueue, enqueue_on_commit, get_queue, job_id
from integrations.cj.client import get_client
from orders.sweeps import orders_reconcile
from webhooks import dispatch, selectors
from webhooks.dispatch import HANDLERS, PayloadError
from webhooks.messages import Message
from webhooks.models import WebhookEvent

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
    "id", "message_id", "topic", "message_type", "params", "status", "attempts", "outcome", "error", "received_at"
)  # fmt: skip
_OUTCOME_SQL = f"""
UPDATE {_TABLE} AS e
   SET status = o.status, attempts = o.attempts, outcome = o.outcome, error = o.error, processed_at = o.processed_at,
       updated_at = NOW()
  FROM unnest(%s::bigint[], %s::text[], %s::smallint[], %s::text[], %s::text[], %s::timestamptz[])
       AS o(id, status, attempts, outcome, error, processed_at)
 WHERE e.id = o.id
"""  # noqa: S608 (the table name comes from the model)
STOCK_TOPIC = "STOCK"
# STOCK events applied by one job at most; one statement pair writes all their figures.
STOCK_BATCH = 500


def _events_lock(where: str, params: Sequence[Any]) -> list[WebhookEvent]:
    """Events matching `where`, locked until commit, with the fields processing needs (others deferred)."""
    fields = [field for field in WebhookEvent._meta.concrete_fields if field.attname in _PROCESS_FIELDS]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {_TABLE} WHERE {where}", params)  # noqa: S608
        rows = cursor.fetchall()
    events = []
    for row in rows:
        values = []
        for field, value in zip(fields, row, strict=True):
            # JSON text to Python, as the ORM does. (Every model field has get_db_converters;
            # django-stubs' Field lacks it, hence the ignore.)
            for converter in field.get_db_converters(connection):  # type: ignore[attr-defined]
                value = converter(value, field, connection)
            values.append(value)
        events.append(WebhookEvent.from_db(connection.alias, [field.attname for field in fields], values))
    return events


def _event_lock(event_id: int) -> WebhookEvent | None:
    """The event's row, locked until commit."""
    events = _events_lock("id = %s FOR UPDATE", [event_id])
    return events[0] if events else None


def _stock_batch_lock(event: WebhookEvent) -> list[WebhookEvent]:
    """The event and up to STOCK_BATCH - 1 other STOCK events waiting (oldest first), locked; events
    another job holds are skipped, so two jobs never wait for each other."""
    others = _events_lock(
        "topic = %s AND status = %s AND id != %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
        [event.topic, WebhookEvent.Status.RECEIVED, event.pk, STOCK_BATCH - 1],
    )
    return [event, *others]


def _stock_batch_process(event: WebhookEvent) -> list[WebhookEvent]:
    """Apply a STOCK event together with the STOCK events waiting behind it, set-based; returns the
    events it took besides `event`, with their outcome set (the caller records `event`'s). A
    malformed one fails alone; when applying fails, the others are left as they were and the
    error is `event`'s alone (raised)."""
    batch = _stock_batch_lock(event)
    valid = []
    for member in batch:
        member.attempts += 1
        try:
            dispatch.stock_figures(member)
        except PayloadError as error:
            member.status, member.error = WebhookEvent.Status.FAILED, f"Invalid payload: {error}"
        else:
            valid.append(member)
    with transaction.atomic():  # on an error the caller records it on `event` alone
        outcomes = dispatch.stock_events_apply(valid)
    for member in valid:
        member.status, member.error, member.outcome = WebhookEvent.Status.PROCESSED, "", outcomes[member.pk][:500]
    return batch[1:]


def webhook_event_process(*, event_id: int, is_last_attempt: bool = True) -> WebhookEvent | None:
    """Apply one stored event through the domain services and record the outcome on the row.

    A STOCK event takes the STOCK events waiting behind it (up to STOCK_BATCH in all) and applies
    their figures with set-based SQL; their own jobs, still queued, are then dropped from the queue.
    Unknown types become `ignored`; a malformed payload `failed` at once. Any other error is
    recorded and re-raised so that RQ retries; on the last attempt the event becomes `failed`.
    Final events are left alone (idempotent). Returns None when the event is gone.
    """
    failure: Exception | None = None
    taken: list[WebhookEvent] = []
    with transaction.atomic():
        event = _event_lock(event_id)
        if event is None:
            return None
        if event.is_final:
            return event
        handler = HANDLERS.get(event.topic)
        try:
            if handler is None:
                event.attempts += 1
                event.status, event.outcome = WebhookEvent.Status.IGNORED, f"type {event.topic} is not handled"
            elif event.topic == STOCK_TOPIC:
                taken = _stock_batch_process(event)
            else:
                event.attempts += 1
                with transaction.atomic():
                    event.outcome = handler(event)[:500]
                event.status, event.error = WebhookEvent.Status.PROCESSED, ""
        except PayloadError as error:
            event.status, event.error = WebhookEvent.Status.FAILED, f"Invalid payload: {error}"
        except Exception as error:
            failure, taken = error, []
            event.error = f"{type(error).__name__}: {error}"[:2000]
            event.status = WebhookEvent.Status.FAILED if is_last_attempt else WebhookEvent.Status.RECEIVED
        now = timezone.now()
        for member in (event, *taken):
            if member.status != WebhookEvent.Status.RECEIVED:
                member.processed_at = now
        _outcomes_record([event, *taken])
    for member in (event, *taken):
        _log_outcome(member)
    if taken:
        _jobs_drop([member.pk for member in taken])
    if failure is not None:
        raise failure
    return event


def _outcomes_record(events: Sequence[WebhookEvent]) -> None:
    """One UPDATE for the outcome of every event processed together."""
    columns: list[Any] = [
        [event.pk for event in events],
        [str(event.status) for event in events],
        [event.attempts for event in events],
        [event.outcome for event in events],
        [event.error for event in events],
        [event.processed_at for event in events],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_OUTCOME_SQL, columns)


def _log_outcome(event: WebhookEvent) -> None:
    fields = {"event_id": event.pk, "topic": event.topic, "status": event.status, "attempt": event.attempts}
    if event.status == WebhookEvent.Status.FAILED:
        logger.error("webhooks.process.failed", extra={**fields, "error": event.error})
    else:
        logger.info("webhooks.process.done", extra={**fields, "outcome": event.outcome})


# Drops queued jobs (their events are processed) from the queue, and their job hashes; a job not in
# the queue list (running, scheduled for a retry) is left alone and will find its event final.
_JOBS_DROP_LUA = """
for _, id in ipairs(ARGV) do
    if redis.call('LREM', KEYS[1], 1, id) == 1 then redis.call('DEL', KEYS[2] .. id) end
end
"""


def _jobs_drop(event_ids: Sequence[int]) -> None:
    """Best effort: a job left behind (Redis away) only finds its event final when it runs."""
    queue = get_queue(PROCESS_WEBHOOK)
    job_ids = [job_id(PROCESS_JOB_KIND, event_id) for event_id in event_ids]
    try:
        queue.connection.eval(_JOBS_DROP_LUA, 2, queue.key, Job.redis_job_namespace_prefix, *job_ids)
    except RedisError as error:
        logger.warning("webhooks.jobs_drop_failed", extra={"count": len(job_ids), "error": str(error)})


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
