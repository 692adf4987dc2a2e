"""The changes repeat web submissions proposed, on the lead page: staff review and apply them.

A repeat submission never changes a lead by itself; its proposal waits on an inbound contact entry
until staff apply it here, through `crm.services.lead_proposal_apply` (an audit log line).
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from crm import selectors, services
from crm.admin.forms import LeadProposalApplyForm, lead_field_label, value_label
from crm.models import Contact, Lead


class PendingProposalListFilter(admin.SimpleListFilter):
    title = "proposed changes"
    parameter_name = "proposals"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("pending", "Waiting for review")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        if self.value() == "pending":
            return selectors.lead_list_with_pending_proposals(leads=queryset)
        return queryset


class LeadProposalsMixin(admin.ModelAdmin):
    """For the lead admin (not registered itself): the read-only field `pending_proposals` and the
    page that applies one."""

    def get_fieldsets(self, request: HttpRequest, obj: Lead | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets
        return [(name, options) for name, options in fieldsets if "pending_proposals" not in options["fields"]]

    @admin.display(description="waiting for review")
    def pending_proposals(self, obj: Lead) -> str:
        blocks = []
        for contact in selectors.contact_list_pending_proposals(lead_id=obj.pk):
            changes = services.lead_proposal_changes(lead=obj, contact=contact)
            rows = format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (lead_field_label(name), value_label(current), value_label(proposed))
                    for name, (current, proposed) in changes.items()
                ),
            )
            url = reverse("admin:crm_lead_proposal_apply", args=[obj.pk, contact.pk])
            blocks.append(
                format_html(
                    '<div class="crm-proposal"><p>Submitted {} ({}).</p>'
                    "<table><thead><tr><th>field</th><th>now</th><th>proposed</th></tr></thead>"
                    "<tbody>{}</tbody></table>"
                    '<p><a class="button" href="{}">Apply proposed changes…</a></p></div>',
                    f"{contact.happened_at:%Y-%m-%d %H:%M}",
                    "no change to the lead's current values" if not changes else f"{len(changes)} change(s)",
                    rows,
                    url,
                )
            )
        return SafeString("".join(blocks)) if blocks else "None."

    def get_urls(self) -> list[URLPattern]:
        apply = path(
            "<int:lead_id>/proposals/<int:contact_id>/apply/",
            self.admin_site.admin_view(self.proposal_apply_view),
            name="crm_lead_proposal_apply",
        )
        return [apply, *super().get_urls()]

    def proposal_apply_view(self, request: HttpRequest, lead_id: int, contact_id: int) -> HttpResponse:
        """GET: the proposed changes, each with a checkbox. POST: apply the checked ones."""
        lead = get_object_or_404(Lead, pk=lead_id)
        user = request.user
        if isinstance(user, AnonymousUser) or not self.has_change_permission(request, lead):
            raise PermissionDenied
        contact = get_object_or_404(Contact, pk=contact_id, lead_id=lead.pk)
        change_url = reverse("admin:crm_lead_change", args=[lead.pk])
        if not contact.has_pending_proposal:
            self.message_user(request, "These proposed changes were applied already.", messages.WARNING)
            return HttpResponseRedirect(change_url)
        changes = services.lead_proposal_changes(lead=lead, contact=contact)
        form = LeadProposalApplyForm(request.POST if request.method == "POST" else None, changes=changes)
        if request.method == "POST" and form.is_valid():
            chosen = form.cleaned_data["fields_to_apply"]
            try:
                services.lead_proposal_apply(contact_id=contact.pk, fields=chosen, by=user)
            except services.CrmError as error:
                self.message_user(request, str(error), messages.ERROR)
                return HttpResponseRedirect(change_url)
            applied = ", ".join(lead_field_label(name) for name in chosen) or "nothing"
            self.message_user(request, f"Proposed changes applied: {applied}.", messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": "Apply proposed changes",
            "opts": Lead._meta,
            "original": lead,
            "contact": contact,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/crm/lead/proposal_apply.html", context)
