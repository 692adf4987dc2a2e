"""CRM writes for customers: register by staff (create or fill the empty fields), get or create
for orders (create, or link the existing one unchanged).

A created customer is a `business` audit log line; logs carry ids, never emails, phones or addresses.
"""

import logging
from datetime import datetime
from typing import Any

from django.utils import timezone

from crm.models import Customer
from crm.selectors import email_normalise

business_logger = logging.getLogger("business")


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

    For staff (the staff API, lead conversion), never for anonymous input. Never overwrites what is
    already stored; consent can be given here, not withdrawn. Safe under concurrency (the unique
    email decides). Returns `(customer, created)`; raises ValueError on unknown address keys.
    """
    values = _customer_values(name=name, phone=phone, address=address)
    now = timezone.now()
    customer, created = _customer_get_or_create(
        email=email, values=values, source=source, has_marketing_consent=has_marketing_consent, now=now
    )
    if created:
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
    """The customer with this email, created with these details when missing (default source: an
    order). For anonymous callers (order intake).

    An existing customer is returned unchanged: whoever types an email is not thereby that person,
    so only staff or the verified customer change a customer's record (the order keeps the details
    it was given). `address` uses the keys `line1, line2, city, province, zip, country_code`.
    Safe under concurrency (the unique email decides). Raises ValueError on unknown address keys.
    Logs `crm.customer.created` when it creates one.
    """
    values = _customer_values(name=name, phone=phone, address=address)
    customer, _created = _customer_get_or_create(
        email=email, values=values, source=source, has_marketing_consent=has_marketing_consent, now=timezone.now()
    )
    return customer


def _customer_get_or_create(
    *, email: str, values: dict[str, Any], source: str, has_marketing_consent: bool, now: datetime
) -> tuple[Customer, bool]:
    """The customer with this email, created with `values` when missing (audit line on creation)."""
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
    return customer, created


def _customer_values(*, name: str, phone: str, address: dict[str, str] | None) -> dict[str, Any]:
    """The stored form of a customer's details; raises ValueError on unknown address keys."""
    address = address or {}
    unknown = set(address) - set(Customer.ADDRESS_KEYS)
    if unknown:
        raise ValueError(f"unknown address keys: {sorted(unknown)}")
    values: dict[str, Any] = {"name": name.strip(), "phone": phone.strip()}
    values.update({f"address_{key}": (address.get(key) or "").strip() for key in Customer.ADDRESS_KEYS})
    if values["address_country_code"]:
        values["address_country_code"] = values["address_country_code"].upper()
    return values
