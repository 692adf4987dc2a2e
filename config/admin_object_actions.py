"""Buttons on an admin change page that run one use case on that object ("object actions").

A ModelAdmin mixes in `ObjectActionsMixin` and lists its actions in `object_actions`; other apps
or branches add theirs by appending to that list (`OrderAdmin.object_actions.append(...)`):

    ObjectAction(
        name="retry",                       # URL segment and button id (`object-action-retry`)
        label="Retry forwarding to CJ",
        run=lambda request, order: ...,     # calls one service; returns the success message
        is_available=lambda order: order.status == Order.Status.FAILED,
        permission="change",                # ModelAdmin.has_<permission>_permission(request, obj)
    )

Each shown action is a POST form (with the CSRF token) in the page's object tools
(`templates/admin/object_actions.html`, included by a model's `change_form_object_tools.html`).
The view checks the permission (403), that the action still applies (a warning otherwise), runs
it, and shows its message; a `DomainError` the service raises is shown as a warning with its
message, never as success. Everything else answers as any admin view would.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, path, reverse

from config.domain_errors import DomainError


@dataclass(frozen=True)
class ObjectAction:
    """One button of a change page. `run(request, obj)` performs it and returns the message shown
    on success; `is_available(obj)` says whether it applies to the object as it is now; `style`
    is `default` or `danger` (a red button)."""

    name: str
    label: str
    run: Callable[[HttpRequest, Any], str]
    is_available: Callable[[Any], bool] = lambda obj: True
    permission: str = "change"
    style: str = "default"
    help_text: str = ""


class ObjectActionsMixin:
    """Adds `object_actions` to a ModelAdmin: the URL `<pk>/actions/<name>/`, its view, and the
    buttons' context (`object_actions`) on the change page."""

    object_actions: list[ObjectAction] = []
    # ModelAdmin's own attributes, for the type checker.
    model: Any
    admin_site: Any

    def _object_action_url_name(self) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_object_action"

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<path:object_id>/actions/<slug:action>/",
                self.admin_site.admin_view(self.object_action_view),
                name=self._object_action_url_name(),
            )
        ]
        return extra + super().get_urls()  # type: ignore[misc]  # ModelAdmin.get_urls, after this mixin

    def object_actions_for(self, request: HttpRequest, obj: Any) -> list[dict[str, Any]]:
        """The actions to show as buttons for `obj`: those that apply and that the user may run."""
        url_name = f"admin:{self._object_action_url_name()}"
        return [
            {
                "name": action.name,
                "label": action.label,
                "style": action.style,
                "help_text": action.help_text,
                "url": reverse(url_name, args=[obj.pk, action.name]),
            }
            for action in self.object_actions
            if action.is_available(obj) and self._object_action_permitted(request, action, obj)
        ]

    def _object_action_permitted(self, request: HttpRequest, action: ObjectAction, obj: Any) -> bool:
        return bool(getattr(self, f"has_{action.permission}_permission")(request, obj))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]  # ModelAdmin's
        context = {**(extra_context or {}), "object_actions": self.object_actions_for(request, obj) if obj else []}
        return super().change_view(request, object_id, form_url, context)  # type: ignore[misc]  # ModelAdmin's

    def object_action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """POST: run the named action on the object, then back to its change page with a message."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        chosen = next((candidate for candidate in self.object_actions if candidate.name == action), None)
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]  # ModelAdmin's
        if chosen is None or obj is None:
            raise Http404
        if not self._object_action_permitted(request, chosen, obj):
            raise PermissionDenied
        opts = self.model._meta
        back = HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        if not chosen.is_available(obj):
            messages.warning(request, f"“{chosen.label}” does not apply to {obj} as it is now; nothing was done.")
            return back
        try:
            done = chosen.run(request, obj)
        except DomainError as refusal:
            messages.warning(request, refusal.message)
            return back
        messages.success(request, done)
        return back
