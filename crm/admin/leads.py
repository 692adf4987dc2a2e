"""Leads in the admin: badges, filters, bulk actions, CSV export, contact and status history,
conversion to a customer. Writes go through `crm.services`."""

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import Form, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from config.admin_columns import short_datetime
from config.admin_csv import csv_stream_response
from config.users import admin_request_user
from crm import services
from crm.admin.forms import ContactInlineForm, LeadAdminForm, LeadAssignForm, LeadStatusForm
from crm.admin.proposals import LeadProposalsMixin, PendingProposalListFilter
from crm.models import Contact, Lead, LeadStatusChange

business_logger = logging.getLogger("business")

CSV_COLUMNS = (
    "id",
    "name",
    "email",
    "phone",
    "company",
    "source",
    "status",
    "lost_reason",
    "owner",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "landing_page",
    "has_marketing_consent",
    "last_contacted_at",
    "customer_id",
    "created_at",
)


def status_badge_html(status: str, label: str) -> str:
    return format_html('<span class="crm-badge crm-badge--{}">{}</span>', status, label)


def _csv_rows(leads: Iterable[Lead]) -> Iterator[list[Any]]:
    for lead in leads:
        yield [
            (lead.owner.get_username() if lead.owner else "") if column == "owner" else getattr(lead, column)
            for column in CSV_COLUMNS
        ]


def leads_csv_response(leads: QuerySet[Lead], *, user_id: int, filename: str = "leads") -> StreamingHttpResponse:
    """Stream leads as CSV (owner joined, read in chunks), and audit the export."""
    leads = leads.select_related("owner").order_by("-created_at", "-id")
    business_logger.info("crm.lead.exported", extra={"by": user_id, "count": leads.count()})
    return csv_stream_response(CSV_COLUMNS, _csv_rows(leads.iterator(chunk_size=2000)), filename=filename)


class ContactHistoryMixin:
    """Contacts added in an inline are logged through `contact_log` (which stamps the lead or
    customer as contacted), for the object named by `contact_subject`."""

    contact_subject = "lead"

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: Any, change: bool) -> None:
        if formset.model is not Contact:
            formset.save()
            return
        formset.save(commit=False)
        # The admin's change message names the saved entries, so hand it those.
        formset.new_objects = [
            services.contact_log(
                **{self.contact_subject: form.instance},
                channel=contact.channel,
                direction=contact.direction,
                summary=contact.summary,
                happened_at=contact.happened_at,
                by=admin_request_user(request),
            )
            for contact in formset.new_objects
        ]


class PipelineListFilter(admin.SimpleListFilter):
    title = "pipeline"
    parameter_name = "pipeline"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open (new, contacted, qualified)"), ("closed", "Closed (converted, lost)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        if self.value() == "open":
            return queryset.filter(status__in=Lead.OPEN_STATUSES)
        if self.value() == "closed":
            return queryset.exclude(status__in=Lead.OPEN_STATUSES)
        return queryset


class LeadContactInline(admin.TabularInline):
    """The lead's contact history; the blank row is the quick “log a contact”."""

    model = Contact
    form = ContactInlineForm
    fk_name = "lead"
    extra = 1
    verbose_name = "contact"
    verbose_name_plural = "Contact history — log a contact in the blank row"
    fields = ("happened_at", "channel", "direction", "summary", "staff_user")
    readonly_fields = ("staff_user",)
    ordering = ("-happened_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contact]:
        return super().get_queryset(request).select_related("staff_user")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # history is append-only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LeadStatusChangeInline(admin.TabularInline):
    model = LeadStatusChange
    extra = 0
    verbose_name_plural = "Status history"
    fields = ("created_at", "from_status", "to_status", "note", "changed_by")
    readonly_fields = fields
    ordering = ("-created_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[LeadStatusChange]:
        return super().get_queryset(request).select_related("changed_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Lead)
class LeadAdmin(ContactHistoryMixin, LeadProposalsMixin):
    form = LeadAdminForm
    # Chosen for 1366 px: the dates stay in view beside the filters (short date-times).
    list_display = ("name", "email", "phone", "status_badge", "owner", "source", "created", "last_contacted")
    list_display_links = ("name", "email")
    list_filter = (
        "status",
        PipelineListFilter,
        ("owner", admin.RelatedFieldListFilter),
        "source",
        "created_at",
        "has_marketing_consent",
        PendingProposalListFilter,
    )
    list_select_related = ("owner",)
    list_per_page = 50
    search_fields = ("name", "email", "phone", "company")
    search_help_text = "Search by name, email, phone or company."
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    actions = ("assign_to_me", "assign_to", "change_status", "export_csv")
    readonly_fields = (
        "customer_link",
        "last_contacted_at",
        "converted_at",
        "marketing_consent_at",
        "created_at",
        "pending_proposals",
    )
    fieldsets = (
        (None, {"fields": ("name", "email", "phone", "company", "message")}),
        (
            "Pipeline",
            {"fields": ("status", "lost_reason", "owner", "last_contacted_at", "customer_link", "converted_at")},
        ),
        ("Consent", {"fields": ("has_marketing_consent", "marketing_consent_at")}),
        ("Proposed changes (repeat submissions of the web form)", {"fields": ("pending_proposals",)}),
        (
            "Origin",
            {
                "classes": ("collapse",),
                "fields": (
                    "source",
                    "landing_page",
                    ("utm_source", "utm_medium", "utm_campaign"),
                    ("utm_term", "utm_content"),
                    "created_at",
                ),
            },
        ),
    )
    inlines = (LeadContactInline, LeadStatusChangeInline)

    class Media:
        css = {"all": ("crm/admin.css", "backoffice/admin.css")}

    # --- display ---------------------------------------------------------------------------------

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Lead) -> str:
        return status_badge_html(obj.status, obj.get_status_display())

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: Lead) -> str:
        return short_datetime(obj.created_at)

    @admin.display(description="last contacted", ordering="last_contacted_at")
    def last_contacted(self, obj: Lead) -> str:
        return short_datetime(obj.last_contacted_at)

    @admin.display(description="customer")
    def customer_link(self, obj: Lead) -> str:
        if not obj.customer_id:
            return "—"
        url = reverse("admin:crm_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer)

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> tuple[str, ...]:
        fields = tuple(self.readonly_fields)
        if obj is None:
            return (*fields, "status")
        if not obj.is_open:
            return (*fields, "status", "owner")
        return fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"source": Lead.Source.MANUAL, **super().get_changeform_initial_data(request)}

    def get_inline_instances(self, request: HttpRequest, obj: Lead | None = None) -> list[Any]:
        return super().get_inline_instances(request, obj) if obj is not None else []

    # --- saving through the services -------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Lead, form: Form, change: bool) -> None:
        by = admin_request_user(request)
        if not change:
            lead = services.lead_create_by_staff(by=by, **form.cleaned_data)
            # The admin goes on with `obj` (change message, redirect): make it the stored lead.
            obj.pk = lead.pk
            obj._state.adding = False
            obj.refresh_from_db()
            return
        services.lead_update_by_staff(
            lead=obj, changes={name: form.cleaned_data[name] for name in form.changed_data}, by=by
        )

    # --- bulk actions ----------------------------------------------------------------------------

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        count = 0
        me = admin_request_user(request)
        for lead in queryset:
            services.lead_assign(lead=lead, owner=me, by=me)
            count += 1
        self.message_user(request, f"{count} lead(s) assigned to you.", messages.SUCCESS)

    @admin.action(description="Assign to…", permissions=["change"])
    def assign_to(self, request: HttpRequest, queryset: QuerySet[Lead]) -> HttpResponse | None:
        form = LeadAssignForm(request.POST if "apply" in request.POST else None)
        if not form.is_bound or not form.is_valid():
            return self._action_page(request, queryset, form, "assign_to", "Assign leads", "Assign")
        owner = form.cleaned_data["owner"]
        for lead in queryset:
            services.lead_assign(lead=lead, owner=owner, by=admin_request_user(request))
        who = owner.get_username() if owner else "nobody"
        self.message_user(request, f"{queryset.count()} lead(s) assigned to {who}.", messages.SUCCESS)
        return None

    @admin.action(description="Change status…", permissions=["change"])
    def change_status(self, request: HttpRequest, queryset: QuerySet[Lead]) -> HttpResponse | None:
        form = LeadStatusForm(request.POST if "apply" in request.POST else None)
        if not form.is_bound or not form.is_valid():
            return self._action_page(request, queryset, form, "change_status", "Change the status of leads", "Change")
        changed, refused = 0, []
        for lead in queryset:
            try:
                services.lead_status_change(
                    lead=lead,
                    status=form.cleaned_data["status"],
                    lost_reason=form.cleaned_data["lost_reason"],
                    by=admin_request_user(request),
                )
                changed += 1
            except services.CrmError as error:
                refused.append(f"{lead.name}: {error}")
        if changed:
            self.message_user(request, f"{changed} lead(s) changed.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"{len(refused)} refused — " + " ".join(refused[:5]), messages.WARNING)
        return None

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Lead]) -> StreamingHttpResponse:
        return leads_csv_response(queryset, user_id=admin_request_user(request).pk, filename="leads-selected")

    def _action_page(
        self, request: HttpRequest, queryset: QuerySet[Lead], form: Form, action: str, title: str, submit: str
    ) -> TemplateResponse:
        leads = list(queryset.select_related("owner")[:1000])
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "leads": leads,
            "action": action,
            "submit_label": submit,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/crm/lead/action_form.html", context)

    # --- extra pages: export of the filtered list, conversion -----------------------------------

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path("export-csv/", self.admin_site.admin_view(self.export_filtered_view), name="crm_lead_export_csv"),
            path("<int:lead_id>/convert/", self.admin_site.admin_view(self.convert_view), name="crm_lead_convert"),
        ]
        return extra + super().get_urls()

    def export_filtered_view(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        """The changelist's current filters and search, as CSV (all pages)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:crm_lead_changelist"))
        return leads_csv_response(changelist.get_queryset(request), user_id=admin_request_user(request).pk)

    def convert_view(self, request: HttpRequest, lead_id: int) -> HttpResponse:
        """GET: confirmation page. POST: convert the lead and open its customer."""
        lead = get_object_or_404(Lead.objects.select_related("customer"), pk=lead_id)
        if not self.has_change_permission(request, lead) or not request.user.has_perm("crm.add_customer"):
            raise PermissionDenied
        change_url = reverse("admin:crm_lead_change", args=[lead.pk])
        if request.method == "POST":
            try:
                customer = services.lead_convert_to_customer(lead=lead, by=admin_request_user(request))
            except services.CrmError as error:
                self.message_user(request, str(error), messages.ERROR)
                return HttpResponseRedirect(change_url)
            self.message_user(request, f"{lead.name} converted to customer {customer}.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:crm_customer_change", args=[customer.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Convert to customer",
            "opts": self.model._meta,
            "original": lead,
            "can_convert": Lead.Status.CONVERTED in lead.allowed_next_statuses(),
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/crm/lead/convert_confirmation.html", context)
