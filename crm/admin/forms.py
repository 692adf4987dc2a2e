"""Forms of the CRM admin: lead and customer edit forms, the bulk-action forms, the contact form."""

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from crm.models import Contact, Customer, Lead
from crm.selectors import email_normalise, lead_get_open_by_email
from crm.validators import phone_validate


def _staff_users() -> Any:
    return get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")


class _PersonFieldsMixin:
    """Normalises the email and validates the phone, as the services store them."""

    def clean_email(self) -> str:
        return email_normalise(self.cleaned_data["email"])  # type: ignore[attr-defined]

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()  # type: ignore[attr-defined]
        if phone:
            phone_validate(phone)
        return phone


class LeadAdminForm(_PersonFieldsMixin, forms.ModelForm):
    """Offers only the statuses the pipeline allows next; `converted` goes through conversion.
    The lead services date consent and record pipeline moves."""

    class Meta:
        model = Lead
        fields = (
            "name",
            "email",
            "phone",
            "company",
            "message",
            "status",
            "lost_reason",
            "owner",
            "has_marketing_consent",
            "source",
            "landing_page",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status_field = self.fields.get("status")  # absent when read-only
        if isinstance(status_field, forms.ChoiceField) and self.instance.pk:
            current = self.instance.status
            allowed = {status for status in self.instance.allowed_next_statuses() if status != Lead.Status.CONVERTED}
            status_field.choices = [
                (value, label) for value, label in Lead.Status.choices if value == current or value in allowed
            ]
            status_field.help_text = "Only the next steps of the pipeline are offered."
        owner_field = self.fields.get("owner")
        if isinstance(owner_field, forms.ModelChoiceField):
            owner_field.queryset = _staff_users()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("status") == Lead.Status.LOST and not (data.get("lost_reason") or "").strip():
            self.add_error("lost_reason", "Say why the lead was lost.")
        status = data.get("status", self.instance.status)
        duplicate = lead_get_open_by_email(email=data["email"]) if data.get("email") else None
        if duplicate and duplicate.pk != self.instance.pk and status in Lead.OPEN_STATUSES:
            url = reverse("admin:crm_lead_change", args=[duplicate.pk])
            self.add_error(
                "email",
                format_html('There is already an open lead with this email: <a href="{}">{}</a>.', url, duplicate),
            )
        return data


class CustomerAdminForm(_PersonFieldsMixin, forms.ModelForm):
    """Saved by the admin itself; dates marketing consent when given, clears it when withdrawn."""

    class Meta:
        model = Customer
        fields = (
            "email",
            "name",
            "phone",
            "source",
            "address_line1",
            "address_line2",
            "address_city",
            "address_province",
            "address_zip",
            "address_country_code",
            "has_marketing_consent",
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "has_marketing_consent" in data:
            if data["has_marketing_consent"] and not self.instance.marketing_consent_at:
                self.instance.marketing_consent_at = timezone.now()
            elif not data["has_marketing_consent"]:
                self.instance.marketing_consent_at = None
        return data

    def clean_address_country_code(self) -> str:
        return self.cleaned_data["address_country_code"].strip().upper()


class ContactInlineForm(forms.ModelForm):
    """A new contact history entry; `happened_at` defaults to now."""

    happened_at = forms.SplitDateTimeField(
        required=False, widget=forms.SplitDateTimeWidget, help_text="Empty: now.", label="Happened at"
    )

    class Meta:
        model = Contact
        fields: tuple[str, ...] = ("channel", "direction", "summary", "happened_at")
        widgets = {"summary": forms.Textarea(attrs={"rows": 2, "cols": 60})}


class ContactAdminForm(ContactInlineForm):
    class Meta(ContactInlineForm.Meta):
        fields = ("lead", "customer", "channel", "direction", "summary", "happened_at")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("lead") and not data.get("customer"):
            raise ValidationError("Choose the lead or the customer this contact was with.")
        return data


class LeadAssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, empty_label="— nobody (unassign) —"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner_field = self.fields["owner"]
        if isinstance(owner_field, forms.ModelChoiceField):
            owner_field.queryset = _staff_users()


class LeadStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(value, label) for value, label in Lead.Status.choices if value != Lead.Status.CONVERTED]
    )
    lost_reason = forms.CharField(max_length=200, required=False, help_text="Required for “lost”.")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("status") == Lead.Status.LOST and not (data.get("lost_reason") or "").strip():
            self.add_error("lost_reason", "Say why these leads were lost.")
        return data


class LeadProposalApplyForm(forms.Form):
    """Which of a repeat submission's proposed changes to apply; every change is offered checked."""

    fields_to_apply = forms.MultipleChoiceField(
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Apply",
        help_text="Unchecked changes are not applied, and not offered again.",
    )

    def __init__(self, *args: Any, changes: dict[str, tuple[object, object]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.MultipleChoiceField, self.fields["fields_to_apply"])
        field.initial = list(changes)
        field.choices = [
            (name, f"{lead_field_label(name)}: {value_label(current)} → {value_label(proposed)}")
            for name, (current, proposed) in changes.items()
        ]


def lead_field_label(name: str) -> str:
    """The label staff know a lead field by (its verbose name)."""
    return next(str(field.verbose_name) for field in Lead._meta.fields if field.name == name)


def value_label(value: object) -> str:
    """A lead field's value as staff read it in a proposal: yes/no for consent, a dash for empty."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if value not in (None, "") else "—"
