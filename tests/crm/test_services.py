"""CRM services: de-duplication, the pipeline, conversion, contact history, customers."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from crm import selectors, services
from crm.models import Contact, Customer, Lead, LeadStatusChange
from tests.crm.factories import ContactFactory, CustomerFactory, LeadFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def _business(lines: list[dict], message: str) -> list[dict]:
    return [line for line in lines if line["logger"] == "business" and line["message"] == message]


@pytest.mark.parametrize("raw", ["  Ada@Example.COM ", "ada@example.com", "\tADA@EXAMPLE.COM\n"])
def test_email_normalise_trims_and_lowercases(raw):
    assert selectors.email_normalise(raw) == "ada@example.com"


def test_lead_capture_creates_a_new_lead_with_normalised_email(json_log_file):
    lead, created = services.lead_capture(
        name=" Ada Lovelace ", email=" Ada@Example.com ", phone="+44 20 7946 0000", utm_source="newsletter"
    )

    assert created is True
    lead.refresh_from_db()
    assert (lead.name, lead.email, lead.phone, lead.utm_source) == (
        "Ada Lovelace",
        "ada@example.com",
        "+44 20 7946 0000",
        "newsletter",
    )
    assert (lead.status, lead.source, lead.has_marketing_consent, lead.marketing_consent_at) == (
        "new",
        "web_form",
        False,
        None,
    )
    assert Contact.objects.count() == 0
    captured = _business(json_log_file(), "crm.lead.captured")
    assert [(line["lead_id"], line["source"]) for line in captured] == [(lead.pk, "web_form")]
    assert "ada@example.com" not in str(captured)


def test_repeat_submission_changes_nothing_and_is_recorded_as_a_proposal(json_log_file):
    # given an open lead without phone, company or consent
    first, _ = services.lead_capture(name="Ada", email="ada@example.com", message="First question")
    before = list(Lead.objects.values())

    # when a submission with the same email (other case, spaces) comes in
    second, created = services.lead_capture(
        name="Ada L.",
        email="  ADA@example.COM",
        phone="+33 1 23 45 67 89",
        company="Analytical Engines",
        message="Second question",
        utm_campaign="autumn",
        has_marketing_consent=True,
    )

    # then the lead is untouched and one inbound entry carries what the submission proposed
    assert (created, second.pk) == (False, first.pk)
    assert list(Lead.objects.values()) == before
    contact = Contact.objects.get()
    assert (contact.lead_id, contact.channel, contact.direction, contact.summary, contact.staff_user_id) == (
        first.pk,
        "note",
        "inbound",
        "Repeat submission (Web form): Second question",
        None,
    )
    assert contact.proposed_changes == {
        "name": "Ada L.",
        "phone": "+33 1 23 45 67 89",
        "company": "Analytical Engines",
        "message": "Second question",
        "utm_campaign": "autumn",
        "has_marketing_consent": True,
    }
    assert contact.has_pending_proposal is True
    recorded = _business(json_log_file(), "crm.lead.repeat_recorded")
    assert [(line["lead_id"], line["contact_id"], line["proposed"]) for line in recorded] == [
        (first.pk, contact.pk, ["company", "has_marketing_consent", "message", "name", "phone", "utm_campaign"])
    ]
    assert "ada@example.com" not in str(recorded) and "+33" not in str(recorded)


def test_repeat_submission_without_consent_proposes_none():
    lead = LeadFactory(email="ada@example.com", has_marketing_consent=True, marketing_consent_at=timezone.now())

    services.lead_capture(name="Ada", email="ada@example.com", has_marketing_consent=False)

    assert Contact.objects.get(lead=lead).proposed_changes == {"name": "Ada"}
    assert Lead.objects.get().has_marketing_consent is True


# --- proposals of repeat submissions, applied by staff ------------------------------------------


def _proposal(lead: Lead, **fields) -> Contact:
    services.lead_capture(name=fields.pop("name", lead.name), email=lead.email, **fields)
    return Contact.objects.filter(lead=lead).latest("id")


def test_lead_proposal_apply_changes_the_lead_as_a_staff_edit_and_audits(json_log_file):
    # given a repeat submission proposing a new name, a phone, a company and consent
    user = StaffUserFactory()
    lead = LeadFactory(name="Ada", email="ada@example.com", phone="", company="")
    contact = _proposal(
        lead, name="Ada Lovelace", phone="+44 20 7946 0000", company="Engines", has_marketing_consent=True
    )

    # when staff apply it
    applied = services.lead_proposal_apply(contact_id=contact.pk, by=user)

    # then the lead holds the proposed values, the proposal is closed and the audit line names the fields
    lead.refresh_from_db()
    assert applied.pk == lead.pk
    assert (lead.name, lead.phone, lead.company, lead.has_marketing_consent) == (
        "Ada Lovelace",
        "+44 20 7946 0000",
        "Engines",
        True,
    )
    assert lead.marketing_consent_at is not None
    contact.refresh_from_db()
    assert (contact.proposal_applied_by, contact.has_pending_proposal) == (user, False)
    assert contact.proposal_applied_at is not None
    lines = _business(json_log_file(), "crm.lead.proposal_applied")
    assert [(line["lead_id"], line["contact_id"], line["fields"], line["by"]) for line in lines] == [
        (lead.pk, contact.pk, ["company", "has_marketing_consent", "name", "phone"], user.pk)
    ]


def test_lead_proposal_apply_of_some_fields_applies_only_those():
    user = StaffUserFactory()
    lead = LeadFactory(name="Ada", email="ada@example.com", phone="", company="")
    contact = _proposal(lead, name="Mallory", phone="+44 20 7946 0000", company="Engines", has_marketing_consent=True)

    services.lead_proposal_apply(contact_id=contact.pk, fields=["phone"], by=user)

    lead.refresh_from_db()
    assert (lead.name, lead.phone, lead.company, lead.has_marketing_consent, lead.marketing_consent_at) == (
        "Ada",
        "+44 20 7946 0000",
        "",
        False,
        None,
    )
    assert Contact.objects.get(pk=contact.pk).has_pending_proposal is False


def test_lead_proposal_apply_refuses_twice_unproposed_fields_and_plain_contacts():
    user = StaffUserFactory()
    lead = LeadFactory(name="Ada", email="ada@example.com", phone="")
    contact = _proposal(lead, phone="+44 20 7946 0000")
    plain = ContactFactory(lead=lead)
    before = list(Lead.objects.values())

    with pytest.raises(services.ProposalNotApplicable, match="Not proposed by this submission: company, status"):
        services.lead_proposal_apply(contact_id=contact.pk, fields=["phone", "company", "status"], by=user)
    with pytest.raises(services.ProposalNotApplicable, match="carries no proposed changes"):
        services.lead_proposal_apply(contact_id=plain.pk, by=user)
    assert list(Lead.objects.values()) == before

    services.lead_proposal_apply(contact_id=contact.pk, by=user)
    with pytest.raises(services.ProposalNotApplicable, match="applied already"):
        services.lead_proposal_apply(contact_id=contact.pk, by=user)
    assert Lead.objects.get().phone == "+44 20 7946 0000"


def test_submission_after_the_lead_is_closed_creates_a_new_lead():
    LeadFactory(email="ada@example.com", status=Lead.Status.LOST, lost_reason="No budget")

    lead, created = services.lead_capture(name="Ada", email="Ada@example.com")

    assert created is True
    assert Lead.objects.filter(email="ada@example.com").count() == 2
    assert lead.status == "new"


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_of_one_email_make_one_lead():
    barrier = threading.Barrier(4)
    results: list[bool] = []
    errors: list[BaseException] = []

    def submit(index: int) -> None:
        try:
            barrier.wait(timeout=5)
            _, created = services.lead_capture(name=f"Ada {index}", email=" ADA@example.com")
            results.append(created)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert errors == []
    assert sorted(results) == [False, False, False, True]
    assert Lead.objects.count() == 1
    assert Contact.objects.filter(lead=Lead.objects.get()).count() == 3


@pytest.mark.parametrize(
    ("start", "target"),
    [("new", "contacted"), ("contacted", "qualified"), ("new", "lost"), ("contacted", "lost"), ("qualified", "lost")],
)
def test_allowed_status_changes_are_recorded(start, target, json_log_file):
    user = StaffUserFactory()
    lead = LeadFactory(status=start)

    changed = services.lead_status_change(lead=lead, status=target, lost_reason="Went elsewhere", by=user)

    assert changed.status == target
    lead.refresh_from_db()
    assert lead.status == target
    assert lead.lost_reason == ("Went elsewhere" if target == "lost" else "")
    history = list(LeadStatusChange.objects.values_list("lead_id", "from_status", "to_status", "changed_by_id"))
    assert history == [(lead.pk, start, target, user.pk)]
    lines = _business(json_log_file(), "crm.lead.status_changed")
    assert [(line["lead_id"], line["from_status"], line["to_status"], line["by"]) for line in lines] == [
        (lead.pk, start, target, user.pk)
    ]


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("new", "qualified"),
        ("qualified", "contacted"),
        ("contacted", "new"),
        ("lost", "new"),
        ("new", "new"),
        ("new", "converted"),
        ("qualified", "converted"),
    ],
)
def test_refused_status_changes_change_nothing(start, target, json_log_file):
    lead = LeadFactory(status=start, lost_reason="x" if start == "lost" else "")

    with pytest.raises(services.LeadTransitionNotAllowed):
        services.lead_status_change(lead=lead, status=target)

    lead.refresh_from_db()
    assert lead.status == start
    assert LeadStatusChange.objects.count() == 0
    assert _business(json_log_file(), "crm.lead.status_changed") == []


def test_lost_needs_a_reason():
    lead = LeadFactory(status=Lead.Status.CONTACTED)

    with pytest.raises(services.LeadTransitionNotAllowed, match="needs a reason"):
        services.lead_status_change(lead=lead, status="lost", lost_reason="   ")

    lead.refresh_from_db()
    assert lead.status == "contacted"


def test_convert_creates_the_customer_and_links_the_history(json_log_file):
    user = StaffUserFactory()
    lead = LeadFactory(
        name="Ada",
        email="ada@example.com",
        phone="+44 20 7946 0000",
        status=Lead.Status.QUALIFIED,
        has_marketing_consent=True,
        marketing_consent_at=timezone.now(),
    )
    contact = services.contact_log(lead=lead, channel="phone", summary="Call about sizes", by=user)

    customer = services.lead_convert_to_customer(lead=lead, by=user)

    assert (customer.email, customer.name, customer.phone, customer.source, customer.has_marketing_consent) == (
        "ada@example.com",
        "Ada",
        "+44 20 7946 0000",
        "lead",
        True,
    )
    lead.refresh_from_db()
    assert (lead.status, lead.customer_id) == ("converted", customer.pk)
    assert lead.converted_at is not None
    contact.refresh_from_db()
    assert contact.customer_id == customer.pk
    assert list(LeadStatusChange.objects.values_list("from_status", "to_status")) == [("qualified", "converted")]
    lines = _business(json_log_file(), "crm.lead.converted")
    assert [(line["lead_id"], line["customer_id"], line["customer_created"]) for line in lines] == [
        (lead.pk, customer.pk, True)
    ]


def test_convert_links_an_existing_customer_without_overwriting_it():
    existing = CustomerFactory(email="ada@example.com", name="Ada Byron", phone="")
    lead = LeadFactory(name="Ada", email="ada@example.com", phone="+44 20 7946 0000", status="qualified")

    customer = services.lead_convert_to_customer(lead=lead)

    assert customer.pk == existing.pk
    assert Customer.objects.count() == 1
    existing.refresh_from_db()
    assert (existing.name, existing.phone) == ("Ada Byron", "+44 20 7946 0000")


@pytest.mark.parametrize("status", ["new", "contacted", "lost"])
def test_only_qualified_leads_convert(status):
    lead = LeadFactory(status=status, lost_reason="x" if status == "lost" else "")

    with pytest.raises(services.LeadTransitionNotAllowed):
        services.lead_convert_to_customer(lead=lead)

    assert Customer.objects.count() == 0
    lead.refresh_from_db()
    assert (lead.status, lead.customer_id) == (status, None)


def test_assign_to_staff_and_refuse_non_staff(json_log_file):
    owner = StaffUserFactory()
    lead = LeadFactory()

    services.lead_assign(lead=lead, owner=owner, by=owner)
    with pytest.raises(services.OwnerNotStaff):
        services.lead_assign(lead=lead, owner=UserFactory(is_staff=False))

    lead.refresh_from_db()
    assert lead.owner_id == owner.pk
    lines = _business(json_log_file(), "crm.lead.assigned")
    assert [(line["lead_id"], line["owner_id"], line["previous_owner_id"]) for line in lines] == [
        (lead.pk, owner.pk, None)
    ]


def test_contact_log_moves_last_contacted_at_forward_only():
    lead = LeadFactory()
    now = timezone.now()

    services.contact_log(lead=lead, channel="email", summary="Sent catalogue", happened_at=now)
    services.contact_log(lead=lead, channel="phone", summary="Earlier call", happened_at=now - timedelta(days=1))
    services.contact_log(
        lead=lead, channel="note", direction="internal", summary="Memo", happened_at=now + timedelta(1)
    )

    lead.refresh_from_db()
    assert lead.last_contacted_at == now
    assert Contact.objects.filter(lead=lead).count() == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"channel": "email", "summary": "Hi"}, "needs a lead or a customer"),
        ({"channel": "email", "summary": "   ", "with_lead": True}, "needs a summary"),
        ({"channel": "fax", "summary": "Hi", "with_lead": True}, "Unknown channel"),
    ],
)
def test_contact_log_refuses_bad_input(kwargs, message):
    kwargs = dict(kwargs)
    if kwargs.pop("with_lead", False):
        kwargs["lead"] = LeadFactory()

    with pytest.raises(services.CrmError, match=message):
        services.contact_log(**kwargs)

    assert Contact.objects.count() == 0


def test_customer_get_or_create_creates_then_links_the_existing_one_unchanged(json_log_file):
    created = services.customer_get_or_create(
        email=" Bob@Example.com", address={"line1": "1 Main St", "city": "Lyon", "country_code": "fr"}
    )
    before = Customer.objects.values().get()

    again = services.customer_get_or_create(
        email="bob@example.com",
        name="Bob",
        phone="+33 4 72 00 00 00",
        address={"line1": "2 Other St", "city": "Paris", "country_code": "FR"},
        has_marketing_consent=True,
    )

    assert again.pk == created.pk
    assert Customer.objects.values().get() == before
    customer = Customer.objects.get()
    assert (customer.email, customer.name, customer.phone, customer.source, customer.has_marketing_consent) == (
        "bob@example.com",
        "",
        "",
        "order",
        False,
    )
    assert customer.shipping_address == {
        "line1": "1 Main St",
        "line2": "",
        "city": "Lyon",
        "province": "",
        "zip": "",
        "country_code": "FR",
    }
    assert [line["customer_id"] for line in _business(json_log_file(), "crm.customer.created")] == [customer.pk]
    assert selectors.customer_get_by_email(email="BOB@example.com ") == customer
    assert selectors.customer_get_by_email(email="nobody@example.com") is None


def test_customer_get_or_create_refuses_unknown_address_keys():
    with pytest.raises(ValueError, match="street"):
        services.customer_get_or_create(email="bob@example.com", address={"street": "1 Main St"})

    assert Customer.objects.count() == 0


# --- staff edits (the admin's lead form) --------------------------------------------------------


def test_lead_create_by_staff_stores_a_new_lead_dates_consent_and_audits(json_log_file):
    user = StaffUserFactory()

    lead = services.lead_create_by_staff(
        by=user, name="Ada", email=" Ada@Example.COM ", phone="+44 20 7946 0000", has_marketing_consent=True
    )

    lead.refresh_from_db()
    assert (lead.name, lead.email, lead.status, lead.source, lead.owner_id) == (
        "Ada",
        "ada@example.com",
        "new",
        "manual",
        None,
    )
    assert lead.has_marketing_consent is True
    assert lead.marketing_consent_at is not None
    lines = _business(json_log_file(), "crm.lead.created")
    assert [(line["lead_id"], line["source"], line["by"]) for line in lines] == [(lead.pk, "manual", user.pk)]
    assert LeadStatusChange.objects.count() == 0


def test_lead_create_by_staff_refuses_a_non_staff_owner():
    with pytest.raises(services.OwnerNotStaff):
        services.lead_create_by_staff(by=StaffUserFactory(), name="Ada", email="ada@example.com", owner=UserFactory())

    assert Lead.objects.count() == 0


def test_lead_update_by_staff_saves_plain_fields_then_owner_then_status(json_log_file):
    # given a new lead and a staff edit touching plain and pipeline fields
    user = StaffUserFactory()
    owner = StaffUserFactory()
    lead = LeadFactory(status="new", company="", has_marketing_consent=False)

    # when
    saved = services.lead_update_by_staff(
        lead=lead,
        changes={"company": "Engines", "has_marketing_consent": True, "owner": owner, "status": "contacted"},
        by=user,
    )

    # then
    lead.refresh_from_db()
    assert (saved.status, lead.status, lead.company, lead.owner_id) == ("contacted", "contacted", "Engines", owner.pk)
    assert lead.marketing_consent_at is not None
    assert list(LeadStatusChange.objects.values_list("from_status", "to_status", "changed_by")) == [
        ("new", "contacted", user.pk)
    ]
    events = [line["message"] for line in json_log_file() if line["logger"] == "business"]
    assert events == ["crm.lead.assigned", "crm.lead.status_changed"]


def test_lead_update_by_staff_to_lost_records_the_reason_as_the_note():
    lead = LeadFactory(status="contacted")

    services.lead_update_by_staff(
        lead=lead, changes={"status": "lost", "lost_reason": "Went elsewhere"}, by=StaffUserFactory()
    )

    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason) == ("lost", "Went elsewhere")
    assert list(LeadStatusChange.objects.values_list("to_status", "note")) == [("lost", "Went elsewhere")]


def test_lead_update_by_staff_saves_a_lost_reason_alone_without_a_move(json_log_file):
    lead = LeadFactory(status="lost", lost_reason="Price")

    services.lead_update_by_staff(lead=lead, changes={"lost_reason": "Price and delay"}, by=StaffUserFactory())

    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason) == ("lost", "Price and delay")
    assert LeadStatusChange.objects.count() == 0
    assert [line for line in json_log_file() if line["logger"] == "business"] == []


def test_lead_update_by_staff_undates_withdrawn_consent():
    lead = LeadFactory(has_marketing_consent=True, marketing_consent_at=timezone.now())

    services.lead_update_by_staff(lead=lead, changes={"has_marketing_consent": False}, by=StaffUserFactory())

    lead.refresh_from_db()
    assert (lead.has_marketing_consent, lead.marketing_consent_at) == (False, None)


def test_lead_update_by_staff_refuses_a_skipped_step_and_fields_staff_cannot_edit():
    lead = LeadFactory(status="new")

    with pytest.raises(services.LeadTransitionNotAllowed):
        services.lead_update_by_staff(lead=lead, changes={"status": "qualified"}, by=StaffUserFactory())
    with pytest.raises(ValueError, match="converted_at"):
        services.lead_update_by_staff(lead=lead, changes={"converted_at": timezone.now()}, by=StaffUserFactory())

    lead.refresh_from_db()
    assert (lead.status, lead.converted_at) == ("new", None)
