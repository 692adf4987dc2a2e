"""CRM API shapes: the public lead form, and the staff views of leads and customers."""

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from crm.models import Contact, Customer, Lead, LeadStatusChange
from crm.validators import phone_validate

# --- Public lead form ---------------------------------------------------------------------------


class LeadCaptureSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, validators=[phone_validate])
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    utm_source = serializers.CharField(max_length=200, required=False, allow_blank=True)
    utm_medium = serializers.CharField(max_length=200, required=False, allow_blank=True)
    utm_campaign = serializers.CharField(max_length=200, required=False, allow_blank=True)
    utm_term = serializers.CharField(max_length=200, required=False, allow_blank=True)
    utm_content = serializers.CharField(max_length=200, required=False, allow_blank=True)
    landing_page = serializers.CharField(max_length=500, required=False, allow_blank=True)
    marketing_consent = serializers.BooleanField(required=False, default=False)
    website = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Honeypot: leave empty. Forms hide this field; bots fill it in.",
    )


class LeadCaptureResultSerializer(serializers.Serializer):
    """The one answer to every accepted submission: it never tells whether the email was known."""

    status = serializers.ChoiceField(choices=["received"])


# --- Staff: leads -------------------------------------------------------------------------------


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ("id", "username")


class ContactSerializer(serializers.ModelSerializer):
    staff_user = UserSummarySerializer(read_only=True)

    class Meta:
        model = Contact
        fields = (
            "id",
            "channel",
            "direction",
            "summary",
            "staff_user",
            "happened_at",
            "lead_id",
            "customer_id",
            "proposed_changes",
            "proposal_applied_at",
        )


class LeadStatusChangeSerializer(serializers.ModelSerializer):
    changed_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = LeadStatusChange
        fields = ("from_status", "to_status", "note", "changed_by", "created_at")


class LeadSerializer(serializers.ModelSerializer):
    owner = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Lead
        fields: tuple[str, ...] = (
            "id",
            "name",
            "email",
            "phone",
            "company",
            "source",
            "status",
            "lost_reason",
            "owner",
            "customer_id",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
            "landing_page",
            "has_marketing_consent",
            "last_contacted_at",
            "converted_at",
            "created_at",
            "updated_at",
        )


class LeadDetailSerializer(LeadSerializer):
    contacts = ContactSerializer(many=True, read_only=True)
    status_history = LeadStatusChangeSerializer(source="status_changes", many=True, read_only=True)

    class Meta(LeadSerializer.Meta):
        fields = (*LeadSerializer.Meta.fields, "message", "marketing_consent_at", "contacts", "status_history")


# --- Staff: customers ---------------------------------------------------------------------------


class CustomerAddressSerializer(serializers.Serializer):
    line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    province = serializers.CharField(max_length=100, required=False, allow_blank=True)
    zip = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country_code = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        required=False,
        allow_blank=True,
        error_messages={"invalid": "Enter a two-letter ISO 3166-1 country code."},
    )


class CustomerSerializer(serializers.ModelSerializer):
    shipping_address = CustomerAddressSerializer(read_only=True)

    class Meta:
        model = Customer
        fields = (
            "id",
            "email",
            "name",
            "phone",
            "shipping_address",
            "has_marketing_consent",
            "marketing_consent_at",
            "source",
            "created_at",
            "updated_at",
        )


class CustomerCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, validators=[phone_validate])
    shipping_address = CustomerAddressSerializer(required=False)
    has_marketing_consent = serializers.BooleanField(required=False, default=False)

    def to_service_kwargs(self) -> dict[str, Any]:
        data = self.validated_data
        return {
            "email": data["email"],
            "name": data.get("name", ""),
            "phone": data.get("phone", ""),
            "address": dict(data.get("shipping_address") or {}),
            "has_marketing_consent": data["has_marketing_consent"],
        }
