"""The admin dashboard's registry: providers registered once, panels sorted by `order` then by
registration, a failing provider logged and skipped."""

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from config import dashboard
from config.dashboard import DashboardItem, DashboardPanel, dashboard_panel_register, dashboard_panels


@pytest.fixture
def providers() -> Iterator[None]:
    """The registry as the apps left it, restored afterwards."""
    saved = list(dashboard._providers)
    yield
    dashboard._providers[:] = saved


def _request():
    request = RequestFactory().get("/admin/")
    request.user = AnonymousUser()  # the apps' own providers show nothing to it
    return request


def test_panels_come_by_order_then_registration_and_a_provider_counts_once(providers):
    def first(request):
        yield DashboardPanel(key="late", title="Late", items=(), order=50)
        yield DashboardPanel(key="tie-a", title="Tie A", items=(DashboardItem("a", 1),), order=20)

    def second(request):
        yield DashboardPanel(key="tie-b", title="Tie B", items=(), order=20)
        yield DashboardPanel(key="early", title="Early", items=(), order=5)

    assert dashboard_panel_register(first) is first
    dashboard_panel_register(second)
    dashboard_panel_register(first)

    assert [panel.key for panel in dashboard_panels(_request())] == ["early", "tie-a", "tie-b", "late"]


def test_a_provider_that_raises_is_logged_and_the_others_still_show(providers, json_log_file):
    def broken(request):
        raise RuntimeError("boom")

    def working(request):
        yield DashboardPanel(key="ok", title="OK", items=())

    dashboard_panel_register(broken)
    dashboard_panel_register(working)

    assert [panel.key for panel in dashboard_panels(_request())] == ["ok"]
    errors = [line for line in json_log_file() if line["level"] == "ERROR"]
    assert [(line["message"], line["logger"]) for line in errors] == [
        ("admin.dashboard.panel_failed", "config.dashboard")
    ]
