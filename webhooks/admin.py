"""The webhook inbox in the back office: filters by type, status and error, the payload
pretty-printed, and the actions "replay" and "mark ignored" (both through webhooks.services)."""

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from webhooks import services
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
    list_display = ("message_id", "topic", "message_type", "status", "attempts", "received_at", "processed_at",
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

    @admin.display(description="error")
    def short_error(self, event: WebhookEvent) -> str:
        return event.error[:80]

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
