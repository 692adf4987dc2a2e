"""The CRM's panels on the admin dashboard (registry: `config.dashboard`): leads at a glance
(with the leads whose proposed changes wait for review), leads by status, latest leads.
Registered when `crm.admin` is imported."""

from collections.abc import Iterable
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from config.dashboard import DashboardItem, DashboardPanel, dashboard_panel_register
from config.users import admin_request_user
from crm import selectors
from crm.models import Lead


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
    user_id = admin_request_user(request).pk
    mine = selectors.lead_count_open_owned_by(user_id=user_id)
    proposals = selectors.lead_list_with_pending_proposals().count()
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
            DashboardItem("My open leads", mine, _lead_list_url(pipeline="open", owner__id__exact=user_id)),
            DashboardItem(
                "Leads with proposed changes",
                proposals,
                _lead_list_url(proposals="pending"),
                badge="warning" if proposals else "ok",
                hint="repeat web submissions to review",
            ),
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
