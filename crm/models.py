"""CRM data: customers, leads (the sales pipeline), contact history and the leads' status history.

Emails are stored normalised (trimmed, lower case; `crm.selectors.email_normalise`), which the
database enforces, so a unique constraint on the stored value is a unique constraint on the person.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class Customer(models.Model):
    """Someone who bought (created from an order) or a lead staff converted."""

    class Source(models.TextChoices):
        ORDER = "order", "Order"
        LEAD = "lead", "Converted lead"
        MANUAL = "manual", "Manual"

    # The address as the API and orders spell it; stored as `address_<key>` columns.
    ADDRESS_KEYS = ("line1", "line2", "city", "province", "zip", "country_code")

    email = models.EmailField(
        max_length=254,
        unique=True,
        help_text="Normalised: trimmed, lower case.",
        error_messages={"unique": "A customer with this email already exists."},
    )
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    address_line1 = models.CharField("address line 1", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    address_city = models.CharField("city", max_length=100, blank=True)
    address_province = models.CharField("province", max_length=100, blank=True)
    address_zip = models.CharField("zip", max_length=20, blank=True)
    address_country_code = models.CharField("country code", max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    has_marketing_consent = models.BooleanField(default=False)
    marketing_consent_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(email=Lower("email")), name="crm_customer_email_lower"),
            models.CheckConstraint(
                condition=Q(has_marketing_consent=False) | Q(marketing_consent_at__isnull=False),
                name="crm_customer_consent_dated",
            ),
        ]
        indexes = [models.Index(fields=["address_country_code"], name="crm_customer_country_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    @property
    def shipping_address(self) -> dict[str, str]:
        """The default shipping address as the API and orders spell it (`line1` … `country_code`)."""
        return {key: getattr(self, f"address_{key}") for key in self.ADDRESS_KEYS}


class Lead(models.Model):
    """A prospect in the pipeline `new → contacted → qualified → converted | lost`."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        CONVERTED = "converted", "Converted"
        LOST = "lost", "Lost"

    class Source(models.TextChoices):
        WEB_FORM = "web_form", "Web form"
        IMPORT = "import", "Import"
        MANUAL = "manual", "Manual"
        ORDER = "order", "Order"

    OPEN_STATUSES = (Status.NEW, Status.CONTACTED, Status.QUALIFIED)
    # The only moves the pipeline allows; `converted` is reached through conversion only.
    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.NEW: (Status.CONTACTED, Status.LOST),
        Status.CONTACTED: (Status.QUALIFIED, Status.LOST),
        Status.QUALIFIED: (Status.CONVERTED, Status.LOST),
        Status.CONVERTED: (),
        Status.LOST: (),
    }

    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254, help_text="Normalised: trimmed, lower case.")
    phone = models.CharField(max_length=32, blank=True)
    company = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB_FORM)
    utm_source = models.CharField("UTM source", max_length=200, blank=True)
    utm_medium = models.CharField("UTM medium", max_length=200, blank=True)
    utm_campaign = models.CharField("UTM campaign", max_length=200, blank=True)
    utm_term = models.CharField("UTM term", max_length=200, blank=True)
    utm_content = models.CharField("UTM content", max_length=200, blank=True)
    landing_page = models.CharField(max_length=500, blank=True)
    has_marketing_consent = models.BooleanField(default=False)
    marketing_consent_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    lost_reason = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
        limit_choices_to={"is_staff": True, "is_active": True},
    )
    last_contacted_at = models.DateTimeField(null=True, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="leads")
    converted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            # De-duplication holds under concurrency too: one open lead per email.
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(status__in=["new", "contacted", "qualified"]),
                name="crm_lead_one_open_per_email",
                violation_error_message="There is already an open lead with this email.",
            ),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="crm_lead_email_lower"),
            models.CheckConstraint(condition=~Q(status="lost") | ~Q(lost_reason=""), name="crm_lead_lost_has_reason"),
            models.CheckConstraint(
                condition=~Q(status="converted") | Q(customer__isnull=False, converted_at__isnull=False),
                name="crm_lead_converted_has_customer",
            ),
            models.CheckConstraint(
                condition=Q(has_marketing_consent=False) | Q(marketing_consent_at__isnull=False),
                name="crm_lead_consent_dated",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="crm_lead_status_created_idx"),
            models.Index(fields=["owner", "status"], name="crm_lead_owner_status_idx"),
            models.Index(fields=["source", "-created_at"], name="crm_lead_source_created_idx"),
            models.Index(fields=["-created_at"], name="crm_lead_created_idx"),
            models.Index(fields=["email"], name="crm_lead_email_idx"),
            models.Index(fields=["phone"], name="crm_lead_phone_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def allowed_next_statuses(self) -> tuple[str, ...]:
        return self.TRANSITIONS[self.status]


class LeadStatusChange(models.Model):
    """One move of a lead through the pipeline: the lead's status history."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=Lead.Status.choices)
    to_status = models.CharField(max_length=10, choices=Lead.Status.choices)
    note = models.CharField(max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["lead", "-created_at"], name="crm_statuschange_lead_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(from_status=models.F("to_status")), name="crm_statuschange_moves"),
        ]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class Contact(models.Model):
    """One entry of the contact history, about a lead, a customer, or both (a converted lead)."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        WHATSAPP = "whatsapp", "WhatsApp"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"
        INTERNAL = "internal", "Internal"

    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.OUTBOUND)
    summary = models.TextField()
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="crm_contacts"
    )
    happened_at = models.DateTimeField()
    # A repeat web submission is never applied by itself (whoever types an email is not thereby
    # that person): what it asked to change waits here until staff apply it.
    proposed_changes = models.JSONField(
        default=dict,
        blank=True,
        help_text="A repeat submission's fields (lead field name → value), for staff to review and apply.",
    )
    proposal_applied_at = models.DateTimeField(null=True, blank=True)
    proposal_applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-happened_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(lead__isnull=False) | Q(customer__isnull=False), name="crm_contact_has_subject"
            ),
            models.CheckConstraint(condition=~Q(summary=""), name="crm_contact_has_summary"),
            models.CheckConstraint(
                condition=Q(proposed_changes={}) | Q(lead__isnull=False), name="crm_contact_proposal_on_lead"
            ),
            models.CheckConstraint(
                condition=Q(proposal_applied_at__isnull=True) | ~Q(proposed_changes={}),
                name="crm_contact_applied_has_proposal",
            ),
        ]
        indexes = [
            models.Index(fields=["lead", "-happened_at"], name="crm_contact_lead_idx"),
            models.Index(fields=["customer", "-happened_at"], name="crm_contact_customer_idx"),
            models.Index(fields=["-happened_at"], name="crm_contact_happened_idx"),
        ]

    def __str__(self) -> str:
        # Unsaved, the row may have no time yet: django-stubs types a non-null field as always set.
        has_time = self.happened_at is not None
        when = f" {self.happened_at:%Y-%m-%d %H:%M}" if has_time else ""
        return f"{self.get_channel_display()} ({self.get_direction_display()}){when}"

    @property
    def has_pending_proposal(self) -> bool:
        return bool(self.proposed_changes) and self.proposal_applied_at is None
