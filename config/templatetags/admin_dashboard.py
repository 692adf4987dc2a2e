"""`{% admin_dashboard_panels as panels %}`: the dashboard's panels for the admin index."""

from typing import Any

from django import template

from config.dashboard import DashboardPanel, dashboard_panels

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_dashboard_panels(context: dict[str, Any]) -> list[DashboardPanel]:
    return dashboard_panels(context["request"])
