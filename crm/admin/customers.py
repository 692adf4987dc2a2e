"""Customers and the contact history in the admin.

Other apps add sections to the customer page with `customer_inline_register(SomeInline)` from
their `admin.py` (orders adds the customer's orders this way).
"""

import logging
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from config.users import admin_request_user
from crm import services
from crm.admin.forms import ContactAdminForm, CustomerAdminForm
from crm.admin.leads import ContactHistoryMixin, LeadContactInline, status_badge_html
from crm.models import Contact, Customer, Lead

business_logger = logging.getLogger("business")
_extra_customer_inlines: list[type[admin.options.InlineModelAdmin]] = []


def customer_inline_register(inline: type[admin.options.InlineModelAdmin]) -> None:
    """Show another app's inline (e.g. the customer's orders) on the customer page."""
    if inline not in _extra_customer_inlines:
        _extra_customer_inlines.append(inline)


class CustomerLeadInline(admin.TabularInline):
    model = Lead
    fk_name = "customer"
    extra = 0
    verbose_name_plural = "Leads"
    fields = ("name", "status_badge", "source", "owner", "created_at", "converted_at")
    readonly_fields = fields
    show_change_link = True
    ordering = ("-created_at",)

    @admin.display(description="status")
    def status_badge(self, obj: Lead) -> str:
        return status_badge_html(obj.status, obj.get_status_display())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        return super().get_queryset(request).select_related("owner")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CustomerContactInline(LeadContactInline):
    """The customer's contact history; the blank row is the quick "log a contact"."""

    fk_name = "customer"


@admin.register(Customer)
class CustomerAdmin(ContactHistoryMixin, admin.ModelAdmin):
    contact_subject = "customer"

    form = CustomerAdminForm
    list_display = ("email", "name", "phone", "address_country_code", "has_marketing_consent", "source", "created_at")
    list_filter = ("source", "has_marketing_consent", "created_at", "address_country_code")
    search_fields = ("email", "name", "phone")
    search_help_text = "Search by email, name or phone."
    ordering = ("-created_at", "-id")
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = ("marketing_consent_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("email", "name", "phone", "source")}),
        (
            "Default shipping address",
            {
                "fields": (
                    "address_line1",
                    "address_line2",
                    ("address_city", "address_province"),
                    ("address_zip", "address_country_code"),
                )
            },
        ),
        ("Consent", {"fields": ("has_marketing_consent", "marketing_consent_at")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    inlines = (CustomerLeadInline, CustomerContactInline)

    class Media:
        css = {"all": ("crm/admin.css",)}

    def get_inlines(self, request: HttpRequest, obj: Customer | None) -> list[Any]:
        if obj is None:
            return []
        return [*self.inlines, *_extra_customer_inlines]

    def save_model(self, request: HttpRequest, obj: Customer, form: Form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            business_logger.info(
                "crm.customer.created", extra={"customer_id": obj.pk, "source": obj.source, "by": request.user.pk}
            )


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    """Every contact; append-only (new entries go through `contact_log`)."""

    form = ContactAdminForm
    list_display = ("happened_at", "channel", "direction", "subject", "summary_short", "staff_user")
    list_filter = ("channel", "direction", "happened_at", ("staff_user", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("lead", "customer", "staff_user")
    search_fields = ("summary", "lead__email", "lead__name", "customer__email", "customer__name")
    autocomplete_fields = ("lead", "customer")
    ordering = ("-happened_at", "-id")
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description="with")
    def subject(self, obj: Contact) -> str:
        if obj.lead_id:
            return format_html('<a href="{}">{}</a>', reverse("admin:crm_lead_change", args=[obj.lead_id]), obj.lead)
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:crm_customer_change", args=[obj.customer_id]), obj.customer
        )

    @admin.display(description="summary")
    def summary_short(self, obj: Contact) -> str:
        return Truncator(obj.summary).chars(80)

    def get_readonly_fields(self, request: HttpRequest, obj: Contact | None = None) -> tuple[str, ...]:
        return ("lead", "customer", "channel", "direction", "summary", "happened_at", "staff_user") if obj else ()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Contact, form: Form, change: bool) -> None:
        contact = services.contact_log(
            lead=obj.lead,
            customer=obj.customer,
            channel=obj.channel,
            direction=obj.direction,
            summary=obj.summary,
            happened_at=obj.happened_at,
            by=admin_request_user(request),
        )
        obj.pk = contact.pk
        obj._state.adding = False
        obj.refresh_from_db()
