"""The admin dashboard (the admin index, `templates/admin/index.html`): panels from providers.

Cross-cutting: every app may add panels (the CRM's leads, orders, webhooks), so the registry
lives here and knows no app. A provider is a function `(request) -> Iterable[DashboardPanel]`
registered with `dashboard_panel_register`, usually at import time of an app's `admin.py`:

    from config.dashboard import DashboardItem, DashboardPanel, dashboard_panel_register

    def orders_panels(request):
        if request.user.has_perm("orders.view_order"):
            yield DashboardPanel(title="Orders by status", items=(...), order=30)

    dashboard_panel_register(orders_panels)

Panels are shown by `order`, then registration order. A provider that raises is logged and
skipped: the dashboard never fails because of one panel. The template tag
`{% admin_dashboard_panels as panels %}` (`config/templatetags/admin_dashboard.py`) hands them
to the template.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.http import HttpRequest

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
