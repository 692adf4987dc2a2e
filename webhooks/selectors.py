"""Reads of the webhook inbox: events to sweep, counts per status, and the pause guard's figures."""

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from webhooks import answers
from webhooks.models import WebhookEvent

GUARD_WINDOW_SECONDS = 60 * 60


@dataclass(frozen=True)
class PauseGuardStats:
    """Failure shares over the last hour: answers other than 200, and events that failed to process."""

    answers_total: int | None  # None: Redis (where answers are counted) is unreachable
    answers_failed: int | None
    answer_failure_ratio: float
    events_total: int
    events_failed: int
    processing_failure_ratio: float
    threshold: float
    min_samples: int
    is_alerting: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def webhook_event_get(*, event_id: int) -> WebhookEvent | None:
    return WebhookEvent.objects.filter(pk=event_id).first()


def webhook_event_ids_unprocessed(*, received_before_seconds: int, limit: int) -> list[int]:
    """Events stored but never processed (oldest first): `received` for longer than the delay."""
    received_before = timezone.now() - timedelta(seconds=received_before_seconds)
    events = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED, received_at__lt=received_before)
    return list(events.order_by("received_at", "pk").values_list("pk", flat=True)[:limit])


def webhook_event_counts_by_status(
    *, since_seconds: int | None = None, provider: str | None = WebhookEvent.Provider.CJ
) -> dict[str, int]:
    """How many events of `provider` (CJ's unless told; None: every provider) are in each status
    (all of them, or those received in the last `since_seconds`)."""
    events = WebhookEvent.objects.all() if provider is None else WebhookEvent.objects.filter(provider=provider)
    if since_seconds is not None:
        events = events.filter(received_at__gte=timezone.now() - timedelta(seconds=since_seconds))
    counts = dict.fromkeys(WebhookEvent.Status.values, 0)
    for row in events.values("status").annotate(total=Count("pk")).order_by():
        counts[row["status"]] = row["total"]
    return counts


def webhook_answer_counts(*, window_seconds: int = GUARD_WINDOW_SECONDS) -> tuple[int, int]:
    """(answers, answers other than 200) given to CJ in the window; raises redis.RedisError."""
    return answers.answer_counts(window_seconds=window_seconds)


def webhook_rejection_counts() -> dict[str, int]:
    """Posts refused before their signature was verified, per reason, since the count began;
    raises redis.RedisError. They never enter the pause guard's answers."""
    return answers.rejection_counts()


def _ratio(part: int, whole: int, min_samples: int) -> float:
    return round(part / whole, 4) if whole >= max(min_samples, 1) else 0.0


def webhook_pause_guard_stats() -> PauseGuardStats:
    """The last hour's failure shares; alerting when either passes WEBHOOKS_ALERT_FAILURE_RATIO
    (with at least WEBHOOKS_ALERT_MIN_SAMPLES answers or processed events behind it)."""
    threshold, min_samples = settings.WEBHOOKS_ALERT_FAILURE_RATIO, settings.WEBHOOKS_ALERT_MIN_SAMPLES
    answers_total: int | None
    answers_failed: int | None
    try:
        answers_total, answers_failed = webhook_answer_counts()
    except redis.RedisError:
        answers_total = answers_failed = None
    counts = webhook_event_counts_by_status(since_seconds=GUARD_WINDOW_SECONDS)
    events_failed = counts[WebhookEvent.Status.FAILED]
    events_total = events_failed + counts[WebhookEvent.Status.PROCESSED] + counts[WebhookEvent.Status.IGNORED]
    answer_ratio = _ratio(answers_failed or 0, answers_total or 0, min_samples)
    processing_ratio = _ratio(events_failed, events_total, min_samples)
    return PauseGuardStats(
        answers_total=answers_total,
        answers_failed=answers_failed,
        answer_failure_ratio=answer_ratio,
        events_total=events_total,
        events_failed=events_failed,
        processing_failure_ratio=processing_ratio,
        threshold=threshold,
        min_samples=min_samples,
        is_alerting=answer_ratio > threshold or processing_ratio > threshold,
    )
