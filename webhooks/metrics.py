"""Prometheus export of the pause guard, computed at scrape time from Redis and the inbox."""

from collections.abc import Iterator

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from webhooks.selectors import webhook_event_counts_by_status, webhook_pause_guard_stats, webhook_rejection_counts

RATIO = "cj_webhook_failure_ratio"
RATIO_HELP = "Share of CJ webhook answers other than 200 / of events failing to process, last hour"
REJECTED = "cj_webhook_rejected"
REJECTED_HELP = "Posts to the CJ webhook refused before their signature was verified (not in the pause guard)"


class WebhookGuardCollector(Collector):
    """`cj_webhook_failure_ratio{kind="answers|processing"}`, `cj_webhook_answers{outcome}` (last
    hour), `cj_webhook_guard_alerting`, `cj_webhook_events{status}` (all stored events) and
    `cj_webhook_rejected_total{reason}` (posts refused before verification, since the count began)."""

    def describe(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        # Lets the registry learn the names without a query at registration.
        yield GaugeMetricFamily(RATIO, RATIO_HELP, labels=["kind"])
        yield CounterMetricFamily(REJECTED, REJECTED_HELP, labels=["reason"])

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield from self._rejected()
        try:
            stats = webhook_pause_guard_stats()
            counts = webhook_event_counts_by_status()
        except Exception:  # a scrape must not fail because the database is away
            return
        ratio = GaugeMetricFamily(RATIO, RATIO_HELP, labels=["kind"])
        ratio.add_metric(["answers"], stats.answer_failure_ratio)
        ratio.add_metric(["processing"], stats.processing_failure_ratio)
        yield ratio
        if stats.answers_total is not None:
            answers = GaugeMetricFamily("cj_webhook_answers", "CJ webhook answers, last hour", labels=["outcome"])
            answers.add_metric(["ok"], stats.answers_total - (stats.answers_failed or 0))
            answers.add_metric(["failed"], stats.answers_failed or 0)
            yield answers
        yield GaugeMetricFamily(
            "cj_webhook_guard_alerting", "1 when a failure share is above the threshold", value=int(stats.is_alerting)
        )
        events = GaugeMetricFamily("cj_webhook_events", "Stored CJ webhook events per status", labels=["status"])
        for status, total in counts.items():
            events.add_metric([status], total)
        yield events

    def _rejected(self) -> Iterator[CounterMetricFamily]:
        try:
            counts = webhook_rejection_counts()
        except redis.RedisError:  # a scrape must not fail because Redis is away
            return
        rejected = CounterMetricFamily(REJECTED, REJECTED_HELP, labels=["reason"])
        for reason, total in counts.items():
            rejected.add_metric([reason], total)
        yield rejected
