"""The lead admin's proposed changes: repeat web submissions wait for staff, who apply them."""

import pytest

from crm import services
from crm.models import Contact, Lead
from tests.crm.factories import LeadFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def _repeat(lead: Lead, **fields) -> Contact:
    services.lead_capture(email=lead.email, **fields)
    return Contact.objects.filter(lead=lead).latest("id")


def _apply_url(contact: Contact) -> str:
    return f"/admin/crm/lead/{contact.lead_id}/proposals/{contact.pk}/apply/"


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_lead_page_shows_the_pending_proposal_with_its_apply_link(sales):
    lead = LeadFactory(name="Ada", email="ada@example.com", phone="")
    contact = _repeat(lead, name="Mallory", phone="+1 512 555 0199", has_marketing_consent=True)

    page = sales.get(f"/admin/crm/lead/{lead.pk}/change/").content.decode()

    assert "Proposed changes (repeat submissions of the web form)" in page
    assert "<tr><td>name</td><td>Ada</td><td>Mallory</td></tr>" in page
    assert "<tr><td>phone</td><td>—</td><td>+1 512 555 0199</td></tr>" in page
    assert "<tr><td>has marketing consent</td><td>no</td><td>yes</td></tr>" in page
    assert f'href="{_apply_url(contact)}"' in page


def test_add_page_has_no_proposals_section(sales):
    page = sales.get("/admin/crm/lead/add/").content.decode()

    assert page.count("Proposed changes") == 0


def test_apply_page_offers_each_change_checked_then_applies_the_checked_ones(sales, sales_user, json_log_file):
    # given a repeat submission proposing a name, a phone and consent
    lead = LeadFactory(name="Ada", email="ada@example.com", phone="")
    contact = _repeat(lead, name="Mallory", phone="+1 512 555 0199", has_marketing_consent=True)

    # when staff open the page and apply the phone only
    page = sales.get(_apply_url(contact))
    response = sales.post(_apply_url(contact), {"fields_to_apply": ["phone"]}, follow=True)

    # then the offer listed every change, checked; only the phone changed; the audit line says so
    form = page.context["form"]
    assert [label for _, label in form.fields["fields_to_apply"].choices] == [
        "name: Ada → Mallory",
        "phone: — → +1 512 555 0199",
        "has marketing consent: no → yes",
    ]
    assert form["fields_to_apply"].initial == ["name", "phone", "has_marketing_consent"]
    assert response.redirect_chain == [(f"/admin/crm/lead/{lead.pk}/change/", 302)]
    assert _messages(response) == ["Proposed changes applied: phone."]
    lead.refresh_from_db()
    assert (lead.name, lead.phone, lead.has_marketing_consent) == ("Ada", "+1 512 555 0199", False)
    contact.refresh_from_db()
    assert (contact.proposal_applied_by, contact.has_pending_proposal) == (sales_user, False)
    applied = [line for line in json_log_file() if line["message"] == "crm.lead.proposal_applied"]
    assert [(line["lead_id"], line["contact_id"], line["fields"], line["by"]) for line in applied] == [
        (lead.pk, contact.pk, ["phone"], sales_user.pk)
    ]
    assert "Apply proposed changes…" not in sales.get(f"/admin/crm/lead/{lead.pk}/change/").content.decode()


def test_applying_again_is_refused_with_a_message(sales):
    lead = LeadFactory(email="ada@example.com", phone="")
    contact = _repeat(lead, name=lead.name, phone="+1 512 555 0199")
    first = sales.post(_apply_url(contact), {"fields_to_apply": ["phone"]}, follow=True)

    response = sales.post(_apply_url(contact), {"fields_to_apply": ["phone"]}, follow=True)

    assert _messages(first) == ["Proposed changes applied: phone."]
    assert _messages(response) == ["These proposed changes were applied already."]


def test_apply_needs_the_change_permission_on_leads(client):
    lead = LeadFactory(email="ada@example.com", phone="")
    contact = _repeat(lead, name=lead.name, phone="+1 512 555 0199")
    client.force_login(StaffUserFactory())

    response = client.post(_apply_url(contact), {"fields_to_apply": ["phone"]})

    assert response.status_code == 403
    assert Lead.objects.get().phone == ""
    assert Contact.objects.get().has_pending_proposal is True


def test_changelist_filters_leads_with_pending_proposals(sales):
    waiting = LeadFactory(email="ada@example.com")
    _repeat(waiting, name="Ada")
    applied = LeadFactory(email="bob@example.com", phone="")
    contact = _repeat(applied, name="Bob", phone="+1 512 555 0199")
    services.lead_proposal_apply(contact_id=contact.pk, by=StaffUserFactory())
    LeadFactory(email="cy@example.com")

    response = sales.get("/admin/crm/lead/", {"proposals": "pending"})

    assert [lead.pk for lead in response.context["cl"].result_list] == [waiting.pk]


def test_proposed_values_are_shown_escaped(sales):
    lead = LeadFactory(email="ada@example.com", company="")
    contact = _repeat(lead, name=lead.name, company="<script>alert(1)</script>")

    lead_page = sales.get(f"/admin/crm/lead/{lead.pk}/change/").content.decode()
    apply_page = sales.get(_apply_url(contact)).content.decode()

    for page in (lead_page, apply_page):
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
