"""CRM writes for the changes a repeat web submission proposed: staff apply them to the lead.

Applying is a staff edit (`lead_update_by_staff`) plus a `business` audit log line; logs carry ids
and field names, never the values.
"""

import logging
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from config.users import AuthUser
from crm.errors import ProposalNotApplicable
from crm.models import Contact, Lead
from crm.services.leads import LEAD_PROPOSABLE_FIELDS, lead_update_by_staff

business_logger = logging.getLogger("business")


def lead_proposal_changes(*, lead: Lead, contact: Contact) -> dict[str, tuple[object, object]]:
    """What applying the contact's proposal would change on the lead: field → (current, proposed),
    in the form's field order; fields whose proposed value is already stored are left out."""
    proposal = contact.proposed_changes or {}
    return {
        field: (getattr(lead, field), proposal[field])
        for field in LEAD_PROPOSABLE_FIELDS
        if field in proposal and getattr(lead, field) != proposal[field]
    }


@transaction.atomic
def lead_proposal_apply(*, contact_id: int, by: AuthUser, fields: Sequence[str] | None = None) -> Lead:
    """Apply the changes a repeat submission proposed (all of them, or only `fields`) to its lead,
    and mark the proposal applied (when, by whom) so it is not offered again.

    The lead is saved through `lead_update_by_staff` (consent is dated now when given); fields left
    out are not applied and not offered again. Raises ProposalNotApplicable when the entry carries
    no proposal, was applied already, or `fields` names a field it did not propose. Logs
    `crm.lead.proposal_applied` with the fields changed. Returns the saved lead.
    """
    contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
    if contact is None or contact.lead_id is None or not contact.proposed_changes:
        raise ProposalNotApplicable("This contact entry carries no proposed changes.")
    if contact.proposal_applied_at is not None:
        raise ProposalNotApplicable("These proposed changes were applied already.")
    chosen = set(contact.proposed_changes) if fields is None else set(fields)
    not_proposed = chosen - (set(contact.proposed_changes) & set(LEAD_PROPOSABLE_FIELDS))
    if not_proposed:
        raise ProposalNotApplicable(f"Not proposed by this submission: {', '.join(sorted(not_proposed))}.")
    lead = Lead.objects.select_for_update().get(pk=contact.lead_id)
    changes = {
        field: proposed
        for field, (_, proposed) in lead_proposal_changes(lead=lead, contact=contact).items()
        if field in chosen
    }
    if changes:
        lead = lead_update_by_staff(lead=lead, changes=changes, by=by)
    contact.proposal_applied_at = timezone.now()
    contact.proposal_applied_by_id = by.pk
    contact.save(update_fields=["proposal_applied_at", "proposal_applied_by", "updated_at"])
    business_logger.info(
        "crm.lead.proposal_applied",
        extra={"lead_id": lead.pk, "contact_id": contact.pk, "fields": sorted(changes), "by": by.pk},
    )
    return lead
