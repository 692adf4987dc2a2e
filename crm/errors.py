"""Why the CRM refuses an operation: `DomainError`s whose `message` is meant for staff (the admin
shows it) and which the API's exception handler maps to its JSON error format."""

from config.domain_errors import DomainError


class CrmError(DomainError):
    """A CRM rule refused the operation; the message is meant for staff."""

    status = 400
    code = "crm_refused"
    message = "A CRM rule refused the operation."


class LeadTransitionNotAllowed(CrmError):
    """The pipeline does not allow this status change."""

    status = 409
    code = "lead_transition_not_allowed"
    message = "The pipeline does not allow this status change."


class OwnerNotStaff(CrmError):
    """Leads can only be owned by active staff users."""

    code = "owner_not_staff"
    message = "Leads can only be assigned to active staff users."


class ProposalNotApplicable(CrmError):
    """The contact entry has no pending proposed changes to apply."""

    status = 409
    code = "proposal_not_applicable"
    message = "This contact entry has no pending proposed changes."
