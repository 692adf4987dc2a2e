"""CRM writes for leads: capture from the storefront (a repeat submission is recorded, never
applied), staff creation and edits, assignment, pipeline moves, conversion to a customer.

Every status change, assignment and conversion is a `business` audit log line. Logs carry ids,
never emails, phones or addresses.
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.users import AuthUser
from crm.errors import LeadTransitionNotAllowed, OwnerNotStaff
from crm.models import Contact, Customer, Lead, LeadStatusChange
from crm.selectors import email_normalise
from crm.services.customers import customer_register

business_logger = logging.getLogger("business")

LEAD_OPEN_UNIQUE_CONSTRAINT = "crm_lead_one_open_per_email"
LEAD_DETAIL_FIELDS = (
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
# What staff edit in the admin; the pipeline fields go through their own services.
LEAD_PIPELINE_FIELDS = ("status", "owner", "lost_reason")
LEAD_STAFF_FIELDS = (
    *LEAD_DETAIL_FIELDS,
    *LEAD_PIPELINE_FIELDS,
    "name",
    "email",
    "source",
    "has_marketing_consent",
)
# What a repeat submission may propose (the form's fields); staff apply it with lead_proposal_apply.
LEAD_PROPOSABLE_FIELDS = ("name", *LEAD_DETAIL_FIELDS, "has_marketing_consent")


def _user_id(user: AuthUser | None) -> int | None:
    return user.pk if user is not None else None


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
    """Store a new lead, or record a repeat submission on the open lead with the same normalised
    email, which it never changes.

    Whoever types an email is not thereby that person, so a repeat submission writes nothing to the
    lead or its customer: it becomes an inbound contact entry whose `proposed_changes` hold the
    submitted fields (consent among them, never set) for staff to apply with `lead_proposal_apply`.
    Both outcomes make the same database round trips. Safe under concurrent submissions (a partial
    unique constraint allows one open lead per email). Returns `(lead, created)`, which the caller
    must not show to the submitter. Logs `crm.lead.captured` or `crm.lead.repeat_recorded`.
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
            # A concurrent submission created the open lead first: this one is a repeat.
            if getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") != LEAD_OPEN_UNIQUE_CONSTRAINT:
                raise
            lead = _lead_open_locked(email=normalised)
            if lead is None:
                raise
        else:
            business_logger.info("crm.lead.captured", extra={"lead_id": lead.pk, "source": source})
            return lead, True

    proposal: dict[str, Any] = {field: value for field, value in fields.items() if value}
    if has_marketing_consent:
        proposal["has_marketing_consent"] = True
    summary = f"Repeat submission ({Lead.Source(source).label})"
    if fields["message"]:
        summary = f"{summary}: {fields['message']}"
    # A savepoint as on the creation path: the same round trips either way, so the answer's timing
    # does not tell a known email from a new one.
    with transaction.atomic():
        contact = Contact.objects.create(
            lead=lead,
            customer_id=lead.customer_id,
            channel=Contact.Channel.NOTE,
            direction=Contact.Direction.INBOUND,
            summary=summary,
            happened_at=now,
            proposed_changes=proposal,
        )
    business_logger.info(
        "crm.lead.repeat_recorded",
        extra={"lead_id": lead.pk, "contact_id": contact.pk, "source": source, "proposed": sorted(proposal)},
    )
    return lead, False


def _lead_open_locked(*, email: str) -> Lead | None:
    return Lead.objects.select_for_update().filter(email=email, status__in=Lead.OPEN_STATUSES).first()


def lead_create_by_staff(
    *,
    by: AuthUser,
    name: str,
    email: str,
    phone: str = "",
    company: str = "",
    message: str = "",
    source: str = Lead.Source.MANUAL,
    owner: AuthUser | None = None,
    lost_reason: str = "",
    has_marketing_consent: bool = False,
    landing_page: str = "",
    utm_source: str = "",
    utm_medium: str = "",
    utm_campaign: str = "",
    utm_term: str = "",
    utm_content: str = "",
) -> Lead:
    """Store a lead staff entered by hand (status `new`), consent dated now when given.

    The caller has validated the fields (the admin form refuses a second open lead with the same
    email). Raises OwnerNotStaff. Logs `crm.lead.created`.
    """
    if owner is not None and not (owner.is_active and owner.is_staff):
        raise OwnerNotStaff("Leads can only be assigned to active staff users.")
    lead = Lead.objects.create(
        name=name,
        email=email_normalise(email),
        phone=phone,
        company=company,
        message=message,
        source=source,
        owner=owner,
        lost_reason=lost_reason,
        has_marketing_consent=has_marketing_consent,
        marketing_consent_at=timezone.now() if has_marketing_consent else None,
        landing_page=landing_page,
        utm_source=utm_source,
        utm_medium=utm_medium,
        utm_campaign=utm_campaign,
        utm_term=utm_term,
        utm_content=utm_content,
    )
    business_logger.info("crm.lead.created", extra={"lead_id": lead.pk, "source": source, "by": _user_id(by)})
    return lead


@transaction.atomic
def lead_update_by_staff(*, lead: Lead, changes: Mapping[str, Any], by: AuthUser) -> Lead:
    """Apply a staff edit of a lead: `changes` maps each changed field to its new value.

    Plain fields are saved as given (consent dated when given, undated when withdrawn); a new
    owner goes through `lead_assign` and a new status through `lead_status_change` (which records
    it in the status history), so both are audit log lines; a new `lost_reason` alone is saved
    as is. Raises ValueError for a field staff cannot edit, OwnerNotStaff and
    LeadTransitionNotAllowed. Returns the saved lead.
    """
    unknown = set(changes) - set(LEAD_STAFF_FIELDS)
    if unknown:
        raise ValueError(f"fields staff cannot edit: {sorted(unknown)}")
    current = Lead.objects.get(pk=lead.pk)
    plain = [field for field in changes if field not in LEAD_PIPELINE_FIELDS]
    for field in plain:
        setattr(current, field, changes[field])
    if "email" in changes:
        current.email = email_normalise(changes["email"])
    if "has_marketing_consent" in changes:
        given = changes["has_marketing_consent"]
        current.marketing_consent_at = (current.marketing_consent_at or timezone.now()) if given else None
        plain.append("marketing_consent_at")
    if plain:
        current.save(update_fields=[*plain, "updated_at"])
    if "owner" in changes:
        lead_assign(lead=current, owner=changes["owner"], by=by)
    if "status" in changes:
        lost_reason = changes.get("lost_reason", current.lost_reason) or ""
        return lead_status_change(lead=current, status=changes["status"], lost_reason=lost_reason, by=by)
    if "lost_reason" in changes:
        current.lost_reason = changes["lost_reason"]
        current.save(update_fields=["lost_reason", "updated_at"])
    return current


def lead_assign(*, lead: Lead, owner: AuthUser | None, by: AuthUser | None = None) -> Lead:
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


def _lead_move(*, lead: Lead, to_status: str, by: AuthUser | None, note: str = "") -> None:
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
    *, lead: Lead, status: str, by: AuthUser | None = None, lost_reason: str = "", note: str = ""
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
def lead_convert_to_customer(*, lead: Lead, by: AuthUser | None = None) -> Customer:
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
