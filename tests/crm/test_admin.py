"""The CRM admin: lists without N+1, actions through the services, CSV export, conversion,
contact logging, the dashboard, and what the "Sales" group may do."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from config.dashboard import _providers, dashboard_panel_register, dashboard_panels
from crm.models import Contact, Customer, Lead, LeadStatusChange
from tests.crm.factories import ContactFactory, CustomerFactory, LeadFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/crm/lead/"


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- the Sales group ----------------------------------------------------------------------------


def test_sales_group_works_crm_and_may_only_read_orders():
    group = Group.objects.get(name="Sales")

    assert sorted(group.permissions.values_list("content_type__app_label", "codename")) == [
        ("crm", "add_contact"),
        ("crm", "add_customer"),
        ("crm", "add_lead"),
        ("crm", "change_customer"),
        ("crm", "change_lead"),
        ("crm", "delete_lead"),
        ("crm", "view_contact"),
        ("crm", "view_customer"),
        ("crm", "view_lead"),
        ("crm", "view_leadstatuschange"),
        ("orders", "view_order"),
    ]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/admin/crm/lead/", 200),
        ("/admin/crm/customer/", 200),
        ("/admin/crm/contact/", 200),
        ("/admin/crm/lead/add/", 200),
        ("/admin/auth/user/", 403),
        ("/admin/auth/group/", 403),
        ("/admin/authtoken/tokenproxy/", 403),
    ],
)
def test_sales_user_reaches_crm_but_not_users_or_settings(sales, url, status):
    assert sales.get(url).status_code == status


def test_index_shows_sales_only_crm_and_orders(sales):
    response = sales.get("/admin/")

    assert response.status_code == 200
    assert [app["app_label"] for app in response.context["app_list"]] == ["crm", "orders"]


# --- lists --------------------------------------------------------------------------------------


def test_lead_changelist_query_count_does_not_grow_with_rows(sales, django_assert_max_num_queries):
    owners = [StaffUserFactory() for _ in range(3)]
    LeadFactory.create_batch(5, owner=owners[0])
    with django_assert_max_num_queries(30) as few:
        sales.get(CHANGELIST)
    LeadFactory.create_batch(40, owner=owners[1])
    LeadFactory.create_batch(5, owner=owners[2])

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = sales.get(CHANGELIST)

    assert response.context["cl"].result_count == 50


def test_lead_changelist_shows_status_badges_and_filters(sales):
    LeadFactory(name="Ada", status="contacted")
    LeadFactory(name="Bob", status="new")

    response = sales.get(CHANGELIST, {"status__exact": "contacted"})

    content = response.content.decode()
    assert [lead.name for lead in response.context["cl"].result_list] == ["Ada"]
    assert '<span class="crm-badge crm-badge--contacted">Contacted</span>' in content
    assert "crm-badge--new" not in content
    assert "Export CSV (filtered list)" in content


def test_customer_and_contact_changelists_load(sales):
    customer = CustomerFactory()
    ContactFactory(lead=None, customer=customer, summary="Asked about delivery")

    assert sales.get("/admin/crm/customer/").status_code == 200
    response = sales.get("/admin/crm/contact/")
    assert response.status_code == 200
    assert "Asked about delivery" in response.content.decode()


# --- CSV export ---------------------------------------------------------------------------------


def test_export_csv_of_the_filtered_list(sales, sales_user):
    ada = LeadFactory(
        name="Ada", email="ada@example.com", phone="+44 20 7946 0000", status="new", owner=sales_user, utm_source="g"
    )
    LeadFactory(name="Bob", email="bob@example.com", status="contacted")
    evil = LeadFactory(name="=HYPERLINK(1)", email="evil@example.com", status="new", company="@corp")
    Lead.objects.filter(pk=evil.pk).update(created_at=ada.created_at - timedelta(minutes=1))

    rows = _csv(sales.get(reverse("admin:crm_lead_export_csv"), {"status__exact": "new"}))

    assert rows[0] == [
        "id",
        "name",
        "email",
        "phone",
        "company",
        "source",
        "status",
        "lost_reason",
        "owner",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "landing_page",
        "has_marketing_consent",
        "last_contacted_at",
        "customer_id",
        "created_at",
    ]
    ada.refresh_from_db()
    assert rows[1] == [
        str(ada.pk),
        "Ada",
        "ada@example.com",
        "'+44 20 7946 0000",
        "",
        "web_form",
        "new",
        "",
        "sam",
        "g",
        "",
        "",
        "",
        "",
        "",
        "False",
        "",
        "",
        ada.created_at.isoformat(),
    ]
    assert rows[2][:5] == [str(evil.pk), "'=HYPERLINK(1)", "evil@example.com", "", "'@corp"]
    assert len(rows) == 3


def test_export_csv_follows_the_search(sales):
    LeadFactory(name="Ada", email="ada@example.com")
    LeadFactory(name="Bob", email="bob@example.com")

    rows = _csv(sales.get(reverse("admin:crm_lead_export_csv"), {"q": "bob"}))

    assert [row[1] for row in rows[1:]] == ["Bob"]


def test_export_selected_action(sales):
    ada = LeadFactory(name="Ada")
    LeadFactory(name="Bob")

    response = sales.post(CHANGELIST, {"action": "export_csv", "_selected_action": [ada.pk]})

    assert [row[1] for row in _csv(response)[1:]] == ["Ada"]


def test_export_needs_view_permission():
    client = Client()
    client.force_login(StaffUserFactory())

    assert client.get(reverse("admin:crm_lead_export_csv")).status_code == 403


# --- bulk actions -------------------------------------------------------------------------------


def test_assign_to_me(sales, sales_user):
    leads = LeadFactory.create_batch(2)

    response = sales.post(
        CHANGELIST, {"action": "assign_to_me", "_selected_action": [lead.pk for lead in leads]}, follow=True
    )

    assert _messages(response) == ["2 lead(s) assigned to you."]
    assert list(Lead.objects.values_list("owner_id", flat=True)) == [sales_user.pk, sales_user.pk]


def test_assign_to_shows_a_form_then_assigns(sales):
    lead = LeadFactory()
    olivia = StaffUserFactory(username="olivia")

    page = sales.post(CHANGELIST, {"action": "assign_to", "_selected_action": [lead.pk]})
    assert page.status_code == 200
    assert page.templates[0].name == "admin/crm/lead/action_form.html"
    response = sales.post(
        CHANGELIST,
        {"action": "assign_to", "_selected_action": [lead.pk], "apply": "1", "owner": olivia.pk},
        follow=True,
    )

    assert _messages(response) == ["1 lead(s) assigned to olivia."]
    lead.refresh_from_db()
    assert lead.owner_id == olivia.pk


def test_change_status_action_applies_allowed_moves_and_reports_refused_ones(sales, sales_user):
    fresh = LeadFactory(name="Fresh", status="new")
    done = LeadFactory(name="Done", status="lost", lost_reason="No budget")

    response = sales.post(
        CHANGELIST,
        {"action": "change_status", "_selected_action": [fresh.pk, done.pk], "apply": "1", "status": "contacted"},
        follow=True,
    )

    assert _messages(response) == [
        "1 lead(s) changed.",
        "1 refused — Done: A lost lead cannot become contacted; allowed: none (final status).",
    ]
    assert dict(Lead.objects.values_list("name", "status")) == {"Fresh": "contacted", "Done": "lost"}
    assert list(LeadStatusChange.objects.values_list("lead_id", "to_status", "changed_by_id")) == [
        (fresh.pk, "contacted", sales_user.pk)
    ]


def test_change_status_to_lost_needs_a_reason(sales):
    lead = LeadFactory(status="new")

    response = sales.post(
        CHANGELIST, {"action": "change_status", "_selected_action": [lead.pk], "apply": "1", "status": "lost"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"lost_reason": ["Say why these leads were lost."]}
    lead.refresh_from_db()
    assert lead.status == "new"


# --- change form: status, owner, contact log, conversion ----------------------------------------


def _lead_form(lead: Lead, **changes) -> dict:
    data = {
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "message": lead.message,
        "status": lead.status,
        "lost_reason": lead.lost_reason,
        "owner": lead.owner_id or "",
        "source": lead.source,
        "landing_page": "",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        "utm_term": "",
        "utm_content": "",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
        "contacts-0-channel": "",
        "contacts-0-direction": "outbound",
        "contacts-0-summary": "",
        "contacts-0-happened_at_0": "",
        "contacts-0-happened_at_1": "",
        "status_changes-TOTAL_FORMS": "0",
        "status_changes-INITIAL_FORMS": "0",
        "status_changes-MIN_NUM_FORMS": "0",
        "status_changes-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_change_form_offers_only_allowed_statuses(sales):
    lead = LeadFactory(status="contacted")

    response = sales.get(f"/admin/crm/lead/{lead.pk}/change/")

    assert [value for value, _ in response.context["adminform"].form.fields["status"].choices] == [
        "contacted",
        "qualified",
        "lost",
    ]


def test_change_form_changes_status_owner_and_logs_a_contact_through_the_services(sales, sales_user, json_log_file):
    lead = LeadFactory(status="new", email="ada@example.com")

    response = sales.post(
        f"/admin/crm/lead/{lead.pk}/change/",
        _lead_form(
            lead,
            email=" ADA@Example.com",
            status="contacted",
            owner=sales_user.pk,
            company="Engines",
            **{"contacts-0-channel": "phone", "contacts-0-summary": "Called, wants samples"},
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    lead.refresh_from_db()
    assert (lead.status, lead.owner_id, lead.company, lead.email) == (
        "contacted",
        sales_user.pk,
        "Engines",
        "ada@example.com",
    )
    contact = Contact.objects.get()
    assert (contact.lead_id, contact.channel, contact.direction, contact.summary, contact.staff_user_id) == (
        lead.pk,
        "phone",
        "outbound",
        "Called, wants samples",
        sales_user.pk,
    )
    assert lead.last_contacted_at == contact.happened_at
    events = [line["message"] for line in json_log_file() if line["logger"] == "business"]
    assert events == ["crm.lead.assigned", "crm.lead.status_changed", "crm.contact.logged"]


def test_change_form_refuses_a_skipped_step(sales):
    lead = LeadFactory(status="new")

    response = sales.post(f"/admin/crm/lead/{lead.pk}/change/", _lead_form(lead, status="qualified"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "status": ["Select a valid choice. qualified is not one of the available choices."]
    }
    lead.refresh_from_db()
    assert lead.status == "new"


def test_add_lead_normalises_email_and_refuses_an_open_duplicate(sales):
    existing = LeadFactory(name="Lead 0", email="ada@example.com", status="contacted")
    data = {"name": "Ada", "email": " Ada@Example.COM ", "source": "manual", "owner": ""}

    response = sales.post("/admin/crm/lead/add/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "email": [
            f'There is already an open lead with this email: <a href="/admin/crm/lead/{existing.pk}/change/">'
            "Lead 0 &lt;ada@example.com&gt;</a>."
        ]
    }
    assert Lead.objects.count() == 1


def test_add_lead_goes_through_the_service_with_its_audit_line(sales, sales_user, json_log_file):
    data = {"name": "Ada", "email": " Ada@Example.COM ", "source": "manual", "owner": sales_user.pk,
            "has_marketing_consent": "on"}  # fmt: skip

    response = sales.post("/admin/crm/lead/add/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    lead = Lead.objects.get()
    assert response["Location"] == "/admin/crm/lead/"
    assert (lead.name, lead.email, lead.status, lead.source, lead.owner_id) == (
        "Ada",
        "ada@example.com",
        "new",
        "manual",
        sales_user.pk,
    )
    assert lead.marketing_consent_at is not None
    lines = [line for line in json_log_file() if line["logger"] == "business"]
    assert [(line["message"], line["lead_id"], line["source"], line["by"]) for line in lines] == [
        ("crm.lead.created", lead.pk, "manual", sales_user.pk)
    ]


def test_change_form_to_lost_records_the_reason_in_the_status_history(sales, sales_user, json_log_file):
    lead = LeadFactory(status="contacted")

    response = sales.post(f"/admin/crm/lead/{lead.pk}/change/", _lead_form(lead, status="lost",
                          lost_reason="Went elsewhere"))  # fmt: skip

    assert response.status_code == 302, response.context["adminform"].form.errors
    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason) == ("lost", "Went elsewhere")
    assert list(LeadStatusChange.objects.values_list("from_status", "to_status", "note", "changed_by")) == [
        ("contacted", "lost", "Went elsewhere", sales_user.pk)
    ]
    lines = [line for line in json_log_file() if line["logger"] == "business"]
    assert [(line["message"], line["from_status"], line["to_status"], line["by"]) for line in lines] == [
        ("crm.lead.status_changed", "contacted", "lost", sales_user.pk)
    ]


def test_convert_confirmation_then_conversion(sales):
    lead = LeadFactory(name="Ada", email="ada@example.com", status="qualified")

    page = sales.get(f"/admin/crm/lead/{lead.pk}/convert/")
    response = sales.post(f"/admin/crm/lead/{lead.pk}/convert/")

    assert page.status_code == 200
    assert "Yes, convert" in page.content.decode()
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/crm/customer/{customer.pk}/change/"
    lead.refresh_from_db()
    assert (lead.status, lead.customer_id) == ("converted", customer.pk)


def test_convert_of_an_unqualified_lead_is_refused(sales):
    lead = LeadFactory(status="new")

    response = sales.post(f"/admin/crm/lead/{lead.pk}/convert/", follow=True)

    assert _messages(response) == ["Only qualified leads can be converted; this one is new."]
    assert Customer.objects.count() == 0


def test_customer_page_shows_leads_and_contacts(sales):
    customer = CustomerFactory(email="ada@example.com")
    LeadFactory(name="Ada's lead", customer=customer, status="converted", converted_at=timezone.now())
    ContactFactory(lead=None, customer=customer, summary="Delivered samples")

    response = sales.get(f"/admin/crm/customer/{customer.pk}/change/")

    content = response.content.decode()
    assert "Ada&#x27;s lead" in content
    assert "Delivered samples" in content
    assert "crm-badge--converted" in content


# --- dashboard ----------------------------------------------------------------------------------


def _panels(user) -> dict:
    request = RequestFactory().get("/admin/")
    request.user = user
    return {panel.key: panel for panel in dashboard_panels(request)}


def test_dashboard_counts_and_links(sales, sales_user):
    LeadFactory.create_batch(2, status="new")
    LeadFactory(status="contacted", owner=sales_user)
    old = LeadFactory(status="lost", lost_reason="x")
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    ContactFactory(lead=old, direction="inbound", proposed_changes={"phone": "+1 512 555 0199"})

    panels = _panels(sales_user)

    assert list(panels) == ["leads-glance", "leads-by-status", "orders-by-status", "orders-failed", "leads-latest"]
    assert [(item.label, item.value) for item in panels["leads-glance"].items] == [
        ("New leads this week", 3),
        ("Open leads without owner", 2),
        ("My open leads", 1),
        ("Leads with proposed changes", 1),
    ]
    by_status = {item.label: (item.value, item.url) for item in panels["leads-by-status"].items}
    assert by_status == {
        "New": (2, "/admin/crm/lead/?status__exact=new"),
        "Contacted": (1, "/admin/crm/lead/?status__exact=contacted"),
        "Qualified": (0, "/admin/crm/lead/?status__exact=qualified"),
        "Converted": (0, "/admin/crm/lead/?status__exact=converted"),
        "Lost": (1, "/admin/crm/lead/?status__exact=lost"),
    }
    week_url, unassigned_url, mine_url, proposals_url = (item.url for item in panels["leads-glance"].items)
    assert unassigned_url == "/admin/crm/lead/?pipeline=open&owner__isnull=True"
    # the links open the lists they count
    assert sales.get(week_url).context["cl"].result_count == 3
    assert sales.get(unassigned_url).context["cl"].result_count == 2
    assert sales.get(mine_url).context["cl"].result_count == 1
    assert [lead.pk for lead in sales.get(proposals_url).context["cl"].result_list] == [old.pk]
    content = sales.get("/admin/").content.decode()
    assert 'id="panel-leads-by-status"' in content
    assert 'href="/admin/crm/lead/?status__exact=new"' in content


def test_dashboard_hides_lead_panels_without_permission():
    user = StaffUserFactory()
    client = Client()
    client.force_login(user)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert _panels(user) == {}
    assert "crm-dashboard" not in response.content.decode()


def test_a_failing_panel_provider_is_skipped(sales_user, json_log_file):
    def broken(request):
        raise RuntimeError("boom")

    dashboard_panel_register(broken)
    try:
        panels = _panels(sales_user)
    finally:
        _providers.remove(broken)

    assert list(panels) == ["leads-glance", "leads-by-status", "orders-by-status", "orders-failed", "leads-latest"]
    assert [line["message"] for line in json_log_file() if line["level"] == "ERROR"] == ["admin.dashboard.panel_failed"]
