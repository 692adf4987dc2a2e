"""The admin dashboard (the admin index, `templates/admin/index.html`): panels from providers.

A provider is a function `(request) -> Iterable[DashboardPanel]` registered with
`dashboard_panel_register`, usually at import time of an app's `admin.py`:

    from crm.dashboard import DashboardItem, DashboardPanel, dashboard_panel_register

    def orders_panels(request):
        if request.user.has_perm("orders.view_order"):
            yield DashboardPanel(title="Orders by status", items=(...), order=30)

    dashboard_panel_register(orders_panels)

Panels are shown by `order`, then registration order. A provider that raises is logged and
skipped: the dashboard never fails because of one panel.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from crm import selectors
from crm.models import Lead

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DashboardItem:
    """One figure or row. `badge` is a CSS modifier (a lead status, `ok`, `warning`, `danger`) that
    colours the row's dot and bar; `value_badge` shows the value as a badge of that modifier;
    `share` (0 to 100) draws a bar behind the row."""

    label: str
    value: int | str
    url: str = ""
    badge: str = ""
    share: float | None = None
    hint: str = ""
    value_badge: str = ""


@dataclass(frozen=True)
class DashboardPanel:
    """A titled box. `kind` is `stats` (big figures) or `list` (rows, with optional bars)."""

    title: str
    items: tuple[DashboardItem, ...]
    kind: str = "list"
    url: str = ""
    url_label: str = ""
    order: int = 100
    empty_text: str = "Nothing yet."
    key: str = field(default="", compare=False)


PanelProvider = Callable[[HttpRequest], Iterable[DashboardPanel]]
_providers: list[PanelProvider] = []


def dashboard_panel_register(provider: PanelProvider) -> PanelProvider:
    """Add a panel provider (idempotent); usable as a decorator."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def dashboard_panels(request: HttpRequest) -> list[DashboardPanel]:
    """Every registered provider's panels for this request, sorted by `order`."""
    panels: list[DashboardPanel] = []
    for provider in _providers:
        try:
            panels.extend(provider(request))
        except Exception:
            logger.exception("admin.dashboard.panel_failed", extra={"provider": provider.__qualname__})
    return sorted(panels, key=lambda panel: panel.order)


# --- CRM panels ---------------------------------------------------------------------------------


def _lead_list_url(**params: str | int) -> str:
    url = reverse("admin:crm_lead_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def crm_panels(request: HttpRequest) -> Iterable[DashboardPanel]:
    """Leads at a glance, leads by status, latest leads (for users who may view leads)."""
    if not request.user.has_perm("crm.view_lead"):
        return
    week_start, week_end = selectors.week_bounds()
    week = {"created_at__gte": week_start.isoformat(), "created_at__lt": week_end.isoformat()}
    new_this_week = selectors.lead_count_created_between(start=week_start, end=week_end)
    unassigned = selectors.lead_count_open_unassigned()
    mine = selectors.lead_count_open_owned_by(user_id=request.user.pk)
    yield DashboardPanel(
        key="leads-glance",
        title="Leads at a glance",
        kind="stats",
        order=10,
        items=(
            DashboardItem("New leads this week", new_this_week, _lead_list_url(**week), hint="since Monday"),
            DashboardItem(
                "Open leads without owner",
                unassigned,
                _lead_list_url(pipeline="open", owner__isnull="True"),
                badge="warning" if unassigned else "ok",
            ),
            DashboardItem("My open leads", mine, _lead_list_url(pipeline="open", owner__id__exact=request.user.pk)),
        ),
    )

    counts = selectors.lead_counts_by_status()
    total = sum(counts.values())
    yield DashboardPanel(
        key="leads-by-status",
        title="Leads by status",
        order=20,
        url=_lead_list_url(),
        url_label=f"All {total} leads",
        items=tuple(
            DashboardItem(
                label=label,
                value=counts[status],
                url=_lead_list_url(status__exact=status),
                badge=status,
                share=round(100 * counts[status] / total, 1) if total else 0,
            )
            for status, label in Lead.Status.choices
        ),
    )

    latest = selectors.lead_list_latest(limit=6)
    yield DashboardPanel(
        key="leads-latest",
        title="Latest leads",
        order=40,
        url=reverse("admin:crm_lead_add") if request.user.has_perm("crm.add_lead") else "",
        url_label="Add a lead",
        empty_text="No leads yet.",
        items=tuple(
            DashboardItem(
                label=lead.name,
                value=lead.get_status_display(),
                url=reverse("admin:crm_lead_change", args=[lead.pk]),
                value_badge=lead.status,
                hint=f"{lead.get_source_display()} · {lead.owner.get_username() if lead.owner else 'no owner'}",
            )
            for lead in latest
        ),
    )


dashboard_panel_register(crm_panels)
