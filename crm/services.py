"""CRM writes: capture and work leads, log contacts, create or link customers.

Every status change, assignment, conversion and logged contact is a `business` audit log line.
Logs carry ids, never emails, phones or addresses.
"""

import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from crm.models import Contact, Customer, Lead, LeadStatusChange
from crm.selectors import email_normalise

business_logger = logging.getLogger("business")

LEAD_OPEN_UNIQUE_CONSTRAINT = "crm_lead_one_open_per_email"
LEAD_FILLABLE_FIELDS = (
    "phone",
    "company",
    "message",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "landing_page",
)


class CrmError(Exception):
    """A CRM rule refused the operation; the message is meant for staff."""


class LeadTransitionNotAllowed(CrmError):
    """The pipeline does not allow this status change."""


class OwnerNotStaff(CrmError):
    """Leads can only be owned by active staff users."""


def _user_id(user: AbstractBaseUser | None) -> int | None:
    return user.pk if user is not None else None


# --- Customers ----------------------------------------------------------------------------------


def customer_register(
    *,
    email: str,
    name: str = "",
    phone: str = "",
    address: dict[str, str] | None = None,
    has_marketing_consent: bool = False,
    source: str = Customer.Source.MANUAL,
) -> tuple[Customer, bool]:
    """Create the customer with this (normalised) email, or fill the empty fields of the existing one.

    Never overwrites what is already stored; consent can be given here, not withdrawn. Safe under
    concurrency (the unique email decides). Returns `(customer, created)`; raises ValueError on
    unknown address keys.
    """
    address = address or {}
    unknown = set(address) - set(Customer.ADDRESS_KEYS)
    if unknown:
        raise ValueError(f"unknown address keys: {sorted(unknown)}")
    now = timezone.now()
    values: dict[str, Any] = {"name": name.strip(), "phone": phone.strip()}
    values.update({f"address_{key}": (address.get(key) or "").strip() for key in Customer.ADDRESS_KEYS})
    if values["address_country_code"]:
        values["address_country_code"] = values["address_country_code"].upper()

    customer, created = Customer.objects.get_or_create(
        email=email_normalise(email),
        defaults={
            **values,
            "source": source,
            "has_marketing_consent": has_marketing_consent,
            "marketing_consent_at": now if has_marketing_consent else None,
        },
    )
    if created:
        business_logger.info("crm.customer.created", extra={"customer_id": customer.pk, "source": source})
        return customer, True

    changed = [field for field in ("name", "phone") if values[field] and not getattr(customer, field)]
    has_address = any(getattr(customer, f"address_{key}") for key in Customer.ADDRESS_KEYS)
    if not has_address and any(values[f"address_{key}"] for key in Customer.ADDRESS_KEYS):
        changed += [f"address_{key}" for key in Customer.ADDRESS_KEYS]
    for field in changed:
        setattr(customer, field, values[field])
    if has_marketing_consent and not customer.has_marketing_consent:
        customer.has_marketing_consent, customer.marketing_consent_at = True, now
        changed += ["has_marketing_consent", "marketing_consent_at"]
    if changed:
        customer.save(update_fields=[*changed, "updated_at"])
    return customer, False


def customer_get_or_create(
    *,
    email: str,
    name: str = "",
    phone: str = "",
    address: dict[str, str] | None = None,
    has_marketing_consent: bool = False,
    source: str = Customer.Source.ORDER,
) -> Customer:
    """The customer with this email, created when missing (default source: an order).

    Empty fields of an existing customer are filled from the arguments; nothing is overwritten.
    `address` uses the keys `line1, line2, city, province, zip, country_code`.
    """
    customer, _ = customer_register(
        email=email,
        name=name,
        phone=phone,
        address=address,
        has_marketing_consent=has_marketing_consent,
        source=source,
    )
    return customer


# --- Leads --------------------------------------------------------------------------------------


@transaction.atomic
def lead_capture(
    *,
    name: str,
    email: str,
    phone: str = "",
    company: str = "",
    message: str = "",
    source: str = Lead.Source.WEB_FORM,
    utm_source: str = "",
    utm_medium: str = "",
    utm_campaign: str = "",
    utm_term: str = "",
    utm_content: str = "",
    landing_page: str = "",
    has_marketing_consent: bool = False,
) -> tuple[Lead, bool]:
    """Store a lead, or merge a repeat submission into the open lead with the same normalised email.

    A merge fills the open lead's empty fields, records consent when newly given, and adds an
    inbound contact entry with the submission. Safe under concurrent submissions (a partial unique
    constraint allows one open lead per email). Returns `(lead, created)`.
    """
    now = timezone.now()
    fields = {
        "name": name.strip(),
        "phone": phone.strip(),
        "company": company.strip(),
        "message": message.strip(),
        "utm_source": utm_source.strip(),
        "utm_medium": utm_medium.strip(),
        "utm_campaign": utm_campaign.strip(),
        "utm_term": utm_term.strip(),
        "utm_content": utm_content.strip(),
        "landing_page": landing_page.strip(),
    }
    normalised = email_normalise(email)
    lead = _lead_open_locked(email=normalised)
    if lead is None:
        try:
            with transaction.atomic():
                lead = Lead.objects.create(
                    email=normalised,
                    source=source,
                    has_marketing_consent=has_marketing_consent,
                    marketing_consent_at=now if has_marketing_consent else None,
                    **fields,
                )
        except IntegrityError as error:
            # A concurrent submission created the open lead first: merge into it.
            if getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") != LEAD_OPEN_UNIQUE_CONSTRAINT:
                raise
            lead = _lead_open_locked(email=normalised)
            if lead is None:
                raise
        else:
            business_logger.info("crm.lead.captured", extra={"lead_id": lead.pk, "source": source})
            return lead, True

    changed = [field for field in LEAD_FILLABLE_FIELDS if fields[field] and not getattr(lead, field)]
    for field in changed:
        setattr(lead, field, fields[field])
    if has_marketing_consent and not lead.has_marketing_consent:
        lead.has_marketing_consent, lead.marketing_consent_at = True, now
        changed += ["has_marketing_consent", "marketing_consent_at"]
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])
    summary = f"Repeat submission ({Lead.Source(source).label})"
    if fields["message"]:
        summary = f"{summary}: {fields['message']}"
    Contact.objects.create(
        lead=lead,
        customer_id=lead.customer_id,
        channel=Contact.Channel.NOTE,
        direction=Contact.Direction.INBOUND,
        summary=summary,
        happened_at=now,
    )
    business_logger.info("crm.lead.merged", extra={"lead_id": lead.pk, "source": source, "filled": changed})
    return lead, False


def _lead_open_locked(*, email: str) -> Lead | None:
    return Lead.objects.select_for_update().filter(email=email, status__in=Lead.OPEN_STATUSES).first()


def lead_assign(*, lead: Lead, owner: AbstractBaseUser | None, by: AbstractBaseUser | None = None) -> Lead:
    """Give the lead to an owner (an active staff user), or take it from its owner with `owner=None`.

    Raises OwnerNotStaff. Logs `crm.lead.assigned`.
    """
    if owner is not None and not (owner.is_active and owner.is_staff):
        raise OwnerNotStaff("Leads can only be assigned to active staff users.")
    previous_owner_id = lead.owner_id
    if previous_owner_id == _user_id(owner):
        return lead
    lead.owner = owner
    lead.save(update_fields=["owner", "updated_at"])
    business_logger.info(
        "crm.lead.assigned",
        extra={
            "lead_id": lead.pk,
            "owner_id": _user_id(owner),
            "previous_owner_id": previous_owner_id,
            "by": _user_id(by),
        },
    )
    return lead


def _lead_move(*, lead: Lead, to_status: str, by: AbstractBaseUser | None, note: str = "") -> None:
    """Record the move of a locked lead; the caller has set the other fields and saves them."""
    from_status = lead.status
    if to_status not in lead.allowed_next_statuses():
        allowed = ", ".join(lead.allowed_next_statuses()) or "none (final status)"
        raise LeadTransitionNotAllowed(
            f"A {Lead.Status(from_status).label.lower()} lead cannot become {to_status}; allowed: {allowed}."
        )
    lead.status = to_status
    LeadStatusChange.objects.create(
        lead=lead, from_status=from_status, to_status=to_status, note=note[:200], changed_by=by
    )
    business_logger.info(
        "crm.lead.status_changed",
        extra={"lead_id": lead.pk, "from_status": from_status, "to_status": to_status, "by": _user_id(by)},
    )


@transaction.atomic
def lead_status_change(
    *, lead: Lead, status: str, by: AbstractBaseUser | None = None, lost_reason: str = "", note: str = ""
) -> Lead:
    """Move the lead along the pipeline, recording the move in its status history.

    Only `Lead.TRANSITIONS` are allowed; `converted` goes through `lead_convert_to_customer`; `lost`
    needs a reason. Raises LeadTransitionNotAllowed. Logs `crm.lead.status_changed`.
    """
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if status == Lead.Status.CONVERTED:
        raise LeadTransitionNotAllowed("Use “convert to customer” to convert a lead.")
    lost_reason = lost_reason.strip()
    if status == Lead.Status.LOST and not lost_reason:
        raise LeadTransitionNotAllowed("A lost lead needs a reason.")
    _lead_move(lead=locked, to_status=status, by=by, note=note or lost_reason)
    update_fields = ["status", "updated_at"]
    if status == Lead.Status.LOST:
        locked.lost_reason = lost_reason[:200]
        update_fields.append("lost_reason")
    locked.save(update_fields=update_fields)
    return locked


@transaction.atomic
def lead_convert_to_customer(*, lead: Lead, by: AbstractBaseUser | None = None) -> Customer:
    """Convert a qualified lead: create the customer (or link the existing one with that email),
    link the lead's contact history to it, and mark the lead converted.

    Raises LeadTransitionNotAllowed when the lead is not qualified. Logs `crm.lead.converted`.
    """
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if Lead.Status.CONVERTED not in locked.allowed_next_statuses():
        raise LeadTransitionNotAllowed(
            f"Only qualified leads can be converted; this one is {locked.get_status_display().lower()}."
        )
    customer, created = customer_register(
        email=locked.email,
        name=locked.name,
        phone=locked.phone,
        has_marketing_consent=locked.has_marketing_consent,
        source=Customer.Source.LEAD,
    )
    _lead_move(lead=locked, to_status=Lead.Status.CONVERTED, by=by)
    locked.customer = customer
    locked.converted_at = timezone.now()
    locked.save(update_fields=["status", "customer", "converted_at", "updated_at"])
    Contact.objects.filter(lead=locked, customer__isnull=True).update(customer=customer)
    business_logger.info(
        "crm.lead.converted",
        extra={"lead_id": locked.pk, "customer_id": customer.pk, "customer_created": created, "by": _user_id(by)},
    )
    return customer


# --- Contact history ----------------------------------------------------------------------------


def contact_log(
    *,
    channel: str,
    summary: str,
    lead: Lead | None = None,
    customer: Customer | None = None,
    direction: str = Contact.Direction.OUTBOUND,
    by: AbstractBaseUser | None = None,
    happened_at: Any = None,
) -> Contact:
    """Add an entry to the contact history of a lead and/or a customer.

    A converted lead's entry is also linked to its customer. An inbound or outbound contact moves
    the lead's `last_contacted_at` forward. Raises CrmError without a subject or summary. Logs
    `crm.contact.logged`.
    """
    summary = summary.strip()
    if lead is None and customer is None:
        raise CrmError("A contact needs a lead or a customer.")
    if not summary:
        raise CrmError("A contact needs a summary.")
    if channel not in Contact.Channel.values or direction not in Contact.Direction.values:
        raise CrmError("Unknown channel or direction.")
    happened_at = happened_at or timezone.now()
    if customer is None and lead is not None and lead.customer_id:
        customer = lead.customer
    contact = Contact.objects.create(
        lead=lead,
        customer=customer,
        channel=channel,
        direction=direction,
        summary=summary,
        staff_user=by,
        happened_at=happened_at,
    )
    if lead is not None and direction != Contact.Direction.INTERNAL:
        is_later = Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=happened_at)
        Lead.objects.filter(is_later, pk=lead.pk).update(last_contacted_at=happened_at, updated_at=timezone.now())
    business_logger.info(
        "crm.contact.logged",
        extra={
            "contact_id": contact.pk,
            "lead_id": contact.lead_id,
            "customer_id": contact.customer_id,
            "channel": channel,
            "direction": direction,
            "by": _user_id(by),
        },
    )
    return contact
