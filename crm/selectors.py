"""CRM reads: customers and leads with their relations loaded, and the dashboard's counts."""

import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from crm.models import Contact, Customer, Lead, LeadStatusChange


def email_normalise(email: str) -> str:
    """The one normal form of an email address: surrounding whitespace removed, lower case."""
    return email.strip().lower()


def customer_get_by_email(*, email: str) -> Customer | None:
    """The customer with this email (compared normalised), or None."""
    return Customer.objects.filter(email=email_normalise(email)).first()


def customer_get(*, customer_id: int) -> Customer | None:
    """One customer, or None."""
    return Customer.objects.filter(pk=customer_id).first()


def customer_list() -> QuerySet[Customer]:
    """All customers, newest first (filter further in the caller)."""
    return Customer.objects.all()


def lead_list() -> QuerySet[Lead]:
    """All leads, newest first, with owner and customer joined (no N+1 on lists)."""
    return Lead.objects.select_related("owner", "customer")


def lead_get(*, lead_id: int) -> Lead | None:
    """One lead with owner, customer, contact history and status history loaded, or None."""
    return (
        Lead.objects.select_related("owner", "customer")
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.select_related("staff_user")),
            Prefetch("status_changes", queryset=LeadStatusChange.objects.select_related("changed_by")),
        )
        .filter(pk=lead_id)
        .first()
    )


def lead_get_open_by_email(*, email: str) -> Lead | None:
    """The open (new, contacted or qualified) lead with this email, or None."""
    return Lead.objects.filter(email=email_normalise(email), status__in=Lead.OPEN_STATUSES).first()


def lead_counts_by_status() -> dict[str, int]:
    """Number of leads per status, every status present (zero when none)."""
    counts = dict(Lead.objects.order_by().values_list("status").annotate(count=Count("id")))
    return {status: counts.get(status, 0) for status in Lead.Status.values}


def lead_count_created_between(*, start: datetime.datetime, end: datetime.datetime) -> int:
    """Leads created in [start, end)."""
    return Lead.objects.filter(created_at__gte=start, created_at__lt=end).count()


def lead_count_open_unassigned() -> int:
    """Open leads nobody owns yet."""
    return Lead.objects.filter(status__in=Lead.OPEN_STATUSES, owner__isnull=True).count()


def lead_count_open_owned_by(*, user_id: int) -> int:
    """Open leads owned by this user."""
    return Lead.objects.filter(status__in=Lead.OPEN_STATUSES, owner_id=user_id).count()


def lead_list_latest(*, limit: int = 6) -> list[Lead]:
    """The most recent leads, owner joined."""
    return list(Lead.objects.select_related("owner").order_by("-created_at", "-id")[:limit])


def week_bounds(*, today: datetime.date | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """Start (Monday 00:00, local time) and end of the current week, timezone-aware."""
    today = today or timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    start = timezone.make_aware(datetime.datetime.combine(monday, datetime.time.min))
    return start, start + datetime.timedelta(days=7)


def contact_list_pending_proposals(*, lead_id: int) -> list[Contact]:
    """The lead's repeat submissions whose proposed changes staff have not applied yet, oldest first."""
    return list(
        Contact.objects.filter(lead_id=lead_id, proposal_applied_at__isnull=True)
        .exclude(proposed_changes={})
        .order_by("happened_at", "id")
    )


def lead_list_with_pending_proposals(*, leads: QuerySet[Lead] | None = None) -> QuerySet[Lead]:
    """The leads (of `leads`, default all) with a repeat submission whose proposed changes staff
    have not applied yet."""
    pending = Contact.objects.filter(lead=OuterRef("pk"), proposal_applied_at__isnull=True).exclude(proposed_changes={})
    return (Lead.objects.all() if leads is None else leads).filter(Exists(pending))
