"""The webhook inbox in the back office: filters by type, status and error, the payload
pretty-printed, the actions "replay" and "mark ignored" (both through webhooks.services), and the
dashboard panels (events of the last 24 h by status, the pause guard's failure shares)."""

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from config.admin_columns import short_datetime, status_badge
from config.dashboard import DashboardItem, DashboardPanel, dashboard_panel_register
from webhooks import selectors, services
from webhooks.models import WebhookEvent


class HasErrorFilter(admin.SimpleListFilter):
    title = "error"
    parameter_name = "has_error"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "With an error"), ("no", "Without an error")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> QuerySet[WebhookEvent]:
        if self.value() == "yes":
            return queryset.exclude(error="")
        if self.value() == "no":
            return queryset.filter(error="")
        return queryset


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    # Chosen for 1366 px: times and the error stay in view beside the filters.
    list_display = ("message_id", "topic", "message_type", "status_badge", "attempts", "received", "processed",
                    "short_error")  # fmt: skip
    list_filter = ("status", "topic", "message_type", HasErrorFilter, "received_at", "provider")
    search_fields = ("message_id", "raw_body")
    date_hierarchy = "received_at"
    ordering = ("-received_at", "-id")
    actions = ("replay", "mark_ignored")
    fields = ("provider", "message_id", "topic", "message_type", "status", "attempts", "outcome", "error",
              "received_at", "processed_at", "remote_addr", "pretty_payload", "pretty_headers")  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    class Media:
        css = {"all": ("crm/admin.css", "backoffice/admin.css")}

    @admin.display(description="status", ordering="status")
    def status_badge(self, event: WebhookEvent) -> str:
        return status_badge(STATUS_BADGES.get(event.status, "lost"), event.get_status_display())

    @admin.display(description="received", ordering="received_at")
    def received(self, event: WebhookEvent) -> str:
        return short_datetime(event.received_at)

    @admin.display(description="processed", ordering="processed_at")
    def processed(self, event: WebhookEvent) -> str:
        return short_datetime(event.processed_at)

    @admin.display(description="error")
    def short_error(self, event: WebhookEvent) -> str:
        return event.error if len(event.error) <= 80 else event.error[:79] + "…"

    @admin.display(description="payload")
    def pretty_payload(self, event: WebhookEvent) -> str:
        try:
            text = json.dumps(json.loads(event.raw_body), indent=2, ensure_ascii=False, sort_keys=False)
        except ValueError:
            text = event.raw_body
        return format_html('<pre style="white-space: pre-wrap; max-width: 100ch">{}</pre>', text)

    @admin.display(description="headers")
    def pretty_headers(self, event: WebhookEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.headers, indent=2, sort_keys=True))

    @admin.action(description="Replay the selected events", permissions=["change"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        replayed = sum(1 for pk in queryset.values_list("pk", flat=True) if services.webhook_event_replay(event_id=pk))
        self.message_user(request, f"{replayed} event(s) queued for processing again.", messages.SUCCESS)

    @admin.action(description="Mark the selected events ignored", permissions=["change"])
    def mark_ignored(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        ignored = skipped = 0
        for pk in queryset.values_list("pk", flat=True):
            event = services.webhook_event_mark_ignored(event_id=pk, reason=f"Marked ignored by {request.user}.")
            if event is not None and event.status == WebhookEvent.Status.IGNORED:
                ignored += 1
            else:
                skipped += 1
        level = messages.SUCCESS if not skipped else messages.WARNING
        note = f"; {skipped} left as they were (already processed)" if skipped else ""
        self.message_user(request, f"{ignored} event(s) marked ignored{note}.", level)


# --- dashboard ----------------------------------------------------------------------------------
DASHBOARD_WINDOW_SECONDS = 24 * 60 * 60
STATUS_BADGES: dict[str, str] = {WebhookEvent.Status.PROCESSED: "ok", WebhookEvent.Status.FAILED: "danger"}


def _event_list_url(**params: str) -> str:
    url = reverse("admin:webhooks_webhookevent_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def _guard_item(label: str, *, ratio: float, part: int | None, whole: int | None, threshold: float,
                min_samples: int, url: str = "") -> DashboardItem:  # fmt: skip
    if whole is None:
        return DashboardItem(label, "n/a", url, badge="warning", hint="Redis unreachable: answers are not counted")
    sampled = "" if whole >= max(min_samples, 1) else f"; under {min_samples}, not judged"
    return DashboardItem(
        label,
        f"{ratio:.0%}",
        url,
        badge="warning" if ratio > threshold else "ok",
        hint=f"{part or 0} of {whole}{sampled}; alert above {threshold:.0%}",
    )


def webhooks_panels(request: HttpRequest) -> Iterable[DashboardPanel]:
    """The last 24 h of CJ webhook events by status (failed ones link to their list) and the pause
    guard's failure shares over the last hour, warning above the alert threshold."""
    if not request.user.has_perm("webhooks.view_webhookevent"):
        return
    since = (timezone.now() - timedelta(seconds=DASHBOARD_WINDOW_SECONDS)).replace(microsecond=0)
    window = {"received_at__gte": since.isoformat()}
    counts = selectors.webhook_event_counts_by_status(since_seconds=DASHBOARD_WINDOW_SECONDS)
    total = sum(counts.values())
    yield DashboardPanel(
        key="webhooks-by-status",
        title="CJ webhooks, last 24 h",
        order=50,
        url=_event_list_url(**window),
        url_label=f"All {total} events of the last 24 h",
        items=tuple(
            DashboardItem(
                label=label,
                value=counts[status],
                url=_event_list_url(status__exact=status, **window),
                badge=STATUS_BADGES.get(status, ""),
                share=round(100 * counts[status] / total, 1) if total else 0,
            )
            for status, label in WebhookEvent.Status.choices
        ),
    )
    stats = selectors.webhook_pause_guard_stats()
    last_hour = (timezone.now() - timedelta(seconds=selectors.GUARD_WINDOW_SECONDS)).replace(microsecond=0)
    yield DashboardPanel(
        key="webhooks-pause-guard",
        title="CJ pause guard, last hour",
        kind="stats",
        order=55,
        items=(
            _guard_item(
                "Answers other than 200",
                ratio=stats.answer_failure_ratio,
                part=stats.answers_failed,
                whole=stats.answers_total,
                threshold=stats.threshold,
                min_samples=stats.min_samples,
            ),
            _guard_item(
                "Events failing to process",
                ratio=stats.processing_failure_ratio,
                part=stats.events_failed,
                whole=stats.events_total,
                url=_event_list_url(status__exact=WebhookEvent.Status.FAILED, received_at__gte=last_hour.isoformat()),
                threshold=stats.threshold,
                min_samples=stats.min_samples,
            ),
        ),
    )


dashboard_panel_register(webhooks_panels)
