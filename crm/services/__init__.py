"""CRM writes, one function per use case: customers, leads, contact history.

Every status change, assignment, conversion and logged contact is a `business` audit log line.
Logs carry ids, never emails, phones or addresses. The errors are in `crm.errors`.
"""

from crm.errors import CrmError, LeadTransitionNotAllowed, OwnerNotStaff, ProposalNotApplicable
from crm.services.contacts import contact_log
from crm.services.customers import customer_get_or_create, customer_register
from crm.services.leads import (
    LEAD_OPEN_UNIQUE_CONSTRAINT,
    lead_assign,
    lead_capture,
    lead_convert_to_customer,
    lead_create_by_staff,
    lead_status_change,
    lead_update_by_staff,
)
from crm.services.proposals import lead_proposal_apply, lead_proposal_changes

__all__ = [
    "LEAD_OPEN_UNIQUE_CONSTRAINT",
    "CrmError",
    "LeadTransitionNotAllowed",
    "OwnerNotStaff",
    "ProposalNotApplicable",
    "contact_log",
    "customer_get_or_create",
    "customer_register",
    "lead_assign",
    "lead_capture",
    "lead_convert_to_customer",
    "lead_create_by_staff",
    "lead_proposal_apply",
    "lead_proposal_changes",
    "lead_status_change",
    "lead_update_by_staff",
]
