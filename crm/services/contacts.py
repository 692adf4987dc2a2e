"""CRM writes for the contact history of leads and customers.

Every logged contact is a `business` audit log line; logs carry ids, never emails or phones.
"""

import logging
from typing import Any

from django.db.models import Q
from django.utils import timezone

from config.users import AuthUser
from crm.errors import CrmError
from crm.models import Contact, Customer, Lead

business_logger = logging.getLogger("business")


def _user_id(user: AuthUser | None) -> int | None:
    return user.pk if user is not None else None


def contact_log(
    *,
    channel: str,
    summary: str,
    lead: Lead | None = None,
    customer: Customer | None = None,
    direction: str = Contact.Direction.OUTBOUND,
    by: AuthUser | None = None,
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
