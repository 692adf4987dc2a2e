"""CRM API: the public lead form, staff reads of leads and customers, permissions, error format."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.models import Contact, Customer, Lead
from tests.crm.factories import ContactFactory, CustomerFactory, LeadFactory, SalesUserFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

LEADS_URL = "/api/crm/leads"
CUSTOMERS_URL = "/api/crm/customers"


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert body["error"]["code"] == code
    assert body["request_id"] == response["X-Request-ID"]
    return body["error"]


@pytest.fixture
def sales_client() -> APIClient:
    user = SalesUserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    client.user = user
    return client


# --- public lead form ---------------------------------------------------------------------------


RECEIVED = {"status": "received"}


def test_new_lead_is_202_received_and_stored(api_client):
    response = api_client.post(
        LEADS_URL,
        {
            "name": "Ada",
            "email": "Ada@Example.com",
            "phone": "+44 20 7946 0000",
            "message": "Do you ship to Lyon?",
            "utm_source": "google",
            "utm_campaign": "spring",
            "landing_page": "/products/blue-mug",
            "marketing_consent": True,
        },
        format="json",
    )

    assert response.status_code == 202
    assert response.json() == RECEIVED
    lead = Lead.objects.get()
    assert (lead.email, lead.source, lead.utm_source, lead.utm_campaign, lead.landing_page) == (
        "ada@example.com",
        "web_form",
        "google",
        "spring",
        "/products/blue-mug",
    )
    assert lead.has_marketing_consent is True


def _answer(response) -> tuple[int, bytes, dict[str, str]]:
    """What a submitter sees, minus the request id every answer has its own of."""
    headers = {name: value for name, value in response.items() if name != "X-Request-ID"}
    return response.status_code, response.content, headers


def _statements(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"].split()[0] for query in queries.captured_queries]


@pytest.mark.parametrize("known_as", ["open lead", "closed lead", "customer"])
def test_known_and_new_emails_get_the_identical_answer_with_the_same_queries(api_client, known_as):
    # given an email the CRM knows
    if known_as == "open lead":
        LeadFactory(email="ada@example.com", phone="", company="")
    elif known_as == "closed lead":
        LeadFactory(email="ada@example.com", status=Lead.Status.LOST, lost_reason="No budget")
    else:
        CustomerFactory(email="ada@example.com")
    body = {"name": "Someone", "phone": "+1 512 555 0199", "company": "Probe Inc", "marketing_consent": True}

    # when a stranger posts it, and an email nobody knows
    with CaptureQueriesContext(connection) as known_queries:
        known = api_client.post(LEADS_URL, {**body, "email": " ADA@example.com "}, format="json")
    with CaptureQueriesContext(connection) as new_queries:
        new = api_client.post(LEADS_URL, {**body, "email": "nobody@example.com"}, format="json")

    # then the answers are the same, and so is the work behind them
    assert _answer(known) == _answer(new)
    assert (known.status_code, known.json()) == (202, RECEIVED)
    assert _statements(known_queries) == _statements(new_queries)


def test_a_strangers_repeat_submission_changes_no_lead_or_customer_and_is_recorded_for_staff(api_client):
    # given an open lead without phone, company or consent, and its (earlier) customer
    customer = CustomerFactory(email="ada@example.com", name="Ada", phone="")
    lead = LeadFactory(name="Ada", email="ada@example.com", phone="", company="", customer=customer)
    before = (list(Lead.objects.values()), list(Customer.objects.values()))

    # when someone else submits the form with Ada's email
    response = api_client.post(
        LEADS_URL,
        {
            "name": "Mallory",
            "email": "ada@example.com",
            "phone": "+1 512 555 0199",
            "company": "Mallory Ltd",
            "message": "Call me",
            "utm_source": "probe",
            "marketing_consent": True,
        },
        format="json",
    )

    # then nothing stored about Ada changed, and one inbound entry carries the proposal
    assert (response.status_code, response.json()) == (202, RECEIVED)
    assert (list(Lead.objects.values()), list(Customer.objects.values())) == before
    contact = Contact.objects.get()
    assert (contact.lead_id, contact.customer_id, contact.channel, contact.direction, contact.summary) == (
        lead.pk,
        customer.pk,
        "note",
        "inbound",
        "Repeat submission (Web form): Call me",
    )
    assert contact.proposed_changes == {
        "name": "Mallory",
        "phone": "+1 512 555 0199",
        "company": "Mallory Ltd",
        "message": "Call me",
        "utm_source": "probe",
        "has_marketing_consent": True,
    }
    assert (contact.proposal_applied_at, contact.proposal_applied_by) == (None, None)


def test_honeypot_answers_like_success_and_stores_nothing(api_client, json_log_file):
    response = api_client.post(
        LEADS_URL, {"name": "Bot", "email": "bot@example.com", "website": "http://spam.example"}, format="json"
    )

    assert response.status_code == 202
    assert response.json() == RECEIVED
    assert Lead.objects.count() == 0
    assert [line["message"] for line in json_log_file() if line["logger"] == "security"] == ["crm.lead.honeypot"]


def test_invalid_fields_are_400_in_the_error_format(api_client):
    response = api_client.post(
        LEADS_URL,
        {"name": "", "email": "not-an-email", "phone": "call me maybe", "message": "x" * 5001},
        format="json",
    )

    error = _error(response, 400, "validation_error")
    assert error["details"] == {
        "name": ["This field may not be blank."],
        "email": ["Enter a valid email address."],
        "phone": ["Enter a valid phone number: digits, spaces, + ( ) . - only, with 6 to 15 digits."],
        "message": ["Ensure this field has no more than 5000 characters."],
    }
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("phone", ["123", "+1 234 567 890 123 456 7", "12345abc"])
def test_bad_phones_are_refused(api_client, phone):
    response = api_client.post(LEADS_URL, {"name": "Ada", "email": "ada@example.com", "phone": phone}, format="json")

    assert set(_error(response, 400, "validation_error")["details"]) == {"phone"}


def test_body_over_16_kib_is_413(api_client):
    response = api_client.post(
        LEADS_URL, {"name": "Ada", "email": "ada@example.com", "utm_term": "x" * 17_000}, format="json"
    )

    _error(response, 413, "payload_too_large")
    assert Lead.objects.count() == 0


def test_lead_form_is_throttled_per_client_address(api_client, settings):
    settings.CRM_LEAD_THROTTLE_RATE = "2/min"
    body = {"name": "Ada", "email": "ada@example.com"}

    statuses = [api_client.post(LEADS_URL, body, format="json", REMOTE_ADDR="203.0.113.7").status_code for _ in "ab"]
    throttled = api_client.post(LEADS_URL, body, format="json", REMOTE_ADDR="203.0.113.7")
    other_client = api_client.post(LEADS_URL, body, format="json", REMOTE_ADDR="203.0.113.8")

    assert statuses == [202, 202]
    error = _error(throttled, 429, "throttled")
    assert 0 < error["details"]["retry_after_seconds"] <= 60
    assert other_client.status_code == 202


# --- staff: leads -------------------------------------------------------------------------------


def test_anonymous_cannot_list_leads(api_client):
    LeadFactory()

    response = api_client.get(LEADS_URL)

    _error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_staff_without_crm_permissions_is_403(api_client):
    lead = LeadFactory()
    api_client.force_authenticate(StaffUserFactory())

    _error(api_client.get(LEADS_URL), 403, "permission_denied")
    _error(api_client.get(f"{LEADS_URL}/{lead.pk}"), 403, "permission_denied")


def test_non_staff_user_even_with_permissions_is_403(api_client):
    user = SalesUserFactory(is_staff=False)
    api_client.force_authenticate(user)

    _error(api_client.get(LEADS_URL), 403, "permission_denied")


def test_sales_user_lists_leads_with_a_token(sales_client, django_assert_num_queries):
    owner = StaffUserFactory(username="olivia")
    newer = LeadFactory(name="Newer", email="newer@example.com", owner=owner)
    older = LeadFactory(name="Older", email="older@example.com")
    Lead.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=3))

    # token with its user, permissions (user's and groups'), page (a cursor page counts nothing)
    with django_assert_num_queries(4):
        response = sales_client.get(LEADS_URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "results"}
    assert body["next"] is None
    assert [lead["id"] for lead in body["results"]] == [newer.pk, older.pk]
    first = body["results"][0]
    assert first["owner"] == {"id": owner.pk, "username": "olivia"}
    assert set(first) == {
        "id",
        "name",
        "email",
        "phone",
        "company",
        "source",
        "status",
        "lost_reason",
        "owner",
        "customer_id",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "landing_page",
        "has_marketing_consent",
        "last_contacted_at",
        "converted_at",
        "created_at",
        "updated_at",
    }


def test_lead_list_query_count_does_not_grow_with_rows(sales_client, django_assert_num_queries):
    owners = [StaffUserFactory() for _ in range(3)]
    for index in range(30):
        LeadFactory(owner=owners[index % 3])

    with django_assert_num_queries(4):
        response = sales_client.get(LEADS_URL)

    assert len(response.json()["results"]) == 30


def test_lead_list_filters_search_and_pages(sales_client):
    owner = StaffUserFactory()
    ada = LeadFactory(name="Ada", email="ada@example.com", status="contacted", owner=owner, source="web_form")
    bob = LeadFactory(name="Bob", email="bob@example.com", status="new", source="import", phone="+33 1 11 11 11 11")
    old = LeadFactory(name="Cyd", email="cyd@example.com", status="new", source="manual")
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    today = timezone.localdate()

    def ids(query: str) -> list[int]:
        response = sales_client.get(f"{LEADS_URL}?{query}")
        assert response.status_code == 200, response.content
        return [lead["id"] for lead in response.json()["results"]]

    assert ids("status=new") == [bob.pk, old.pk]
    assert ids("status=new&status=contacted") == [bob.pk, ada.pk, old.pk]
    assert ids(f"owner={owner.pk}") == [ada.pk]
    assert ids("unassigned=true") == [bob.pk, old.pk]
    assert ids("source=import") == [bob.pk]
    assert ids(f"created_after={today - timedelta(days=1)}") == [bob.pk, ada.pk]
    assert ids(f"created_before={today - timedelta(days=30)}") == [old.pk]
    assert ids("search=BOB") == [bob.pk]
    assert ids("search=11 11") == [bob.pk]
    assert ids("ordering=name") == [ada.pk, bob.pk, old.pk]
    first = sales_client.get(f"{LEADS_URL}?limit=2").json()
    assert [lead["id"] for lead in first["results"]] == [bob.pk, ada.pk]
    assert first["next"].startswith(f"http://testserver{LEADS_URL}?cursor=")
    second = sales_client.get(first["next"]).json()
    assert second == {"next": None, "results": second["results"]}
    assert [lead["id"] for lead in second["results"]] == [old.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=won", "status"), ("created_after=yesterday", "created"), ("owner=abc", "owner")],
)
def test_bad_filters_are_400(sales_client, query, field):
    error = _error(sales_client.get(f"{LEADS_URL}?{query}"), 400, "validation_error")

    assert list(error["details"]) == [field]


def test_a_cursor_we_did_not_write_is_400(sales_client):
    error = _error(sales_client.get(f"{LEADS_URL}?cursor=not-ours"), 400, "validation_error")

    assert error["details"] == {"cursor": ["The cursor is not valid."]}


def test_lead_detail_has_contacts_and_status_history(sales_client):
    lead = LeadFactory(name="Ada", status="contacted", message="Hello")
    contact = ContactFactory(lead=lead, summary="Called back", staff_user=sales_client.user)
    lead.status_changes.create(from_status="new", to_status="contacted", changed_by=sales_client.user)

    response = sales_client.get(f"{LEADS_URL}/{lead.pk}")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["message"], body["status"]) == (lead.pk, "Hello", "contacted")
    assert body["contacts"] == [
        {
            "id": contact.pk,
            "channel": "email",
            "direction": "outbound",
            "summary": "Called back",
            "staff_user": {"id": sales_client.user.pk, "username": sales_client.user.username},
            "happened_at": contact.happened_at.isoformat().replace("+00:00", "Z"),
            "lead_id": lead.pk,
            "customer_id": None,
            "proposed_changes": {},
            "proposal_applied_at": None,
        }
    ]
    assert [(change["from_status"], change["to_status"]) for change in body["status_history"]] == [("new", "contacted")]


def test_unknown_lead_is_404(sales_client):
    _error(sales_client.get(f"{LEADS_URL}/999999"), 404, "not_found")


def test_anonymous_cannot_read_a_lead(api_client):
    lead = LeadFactory()

    _error(api_client.get(f"{LEADS_URL}/{lead.pk}"), 401, "not_authenticated")


# --- staff: customers ---------------------------------------------------------------------------


def test_customers_by_email_is_normalised(sales_client):
    ada = CustomerFactory(email="ada@example.com", name="Ada")
    CustomerFactory(email="bob@example.com")

    response = sales_client.get(CUSTOMERS_URL, {"email": " ADA@Example.com"})

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert len(body["results"]) == 1
    assert body["results"][0] == {
        "id": ada.pk,
        "email": "ada@example.com",
        "name": "Ada",
        "phone": "",
        "shipping_address": {"line1": "", "line2": "", "city": "", "province": "", "zip": "", "country_code": ""},
        "has_marketing_consent": False,
        "marketing_consent_at": None,
        "source": "manual",
        "created_at": ada.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": ada.updated_at.isoformat().replace("+00:00", "Z"),
    }


def test_create_customer_is_201_then_200_for_the_same_email(sales_client):
    body = {
        "email": "Ada@Example.com",
        "name": "Ada",
        "shipping_address": {"line1": "1 Rue X", "city": "Lyon", "zip": "69001", "country_code": "fr"},
    }

    created = sales_client.post(CUSTOMERS_URL, body, format="json")
    again = sales_client.post(CUSTOMERS_URL, {"email": "ada@example.com", "phone": "+33 4 72 00 00 00"}, format="json")

    assert created.status_code == 201
    assert created.json()["shipping_address"] == {
        "line1": "1 Rue X",
        "line2": "",
        "city": "Lyon",
        "province": "",
        "zip": "69001",
        "country_code": "FR",
    }
    assert again.status_code == 200
    assert (again.json()["id"], again.json()["name"], again.json()["phone"]) == (
        created.json()["id"],
        "Ada",
        "+33 4 72 00 00 00",
    )
    assert Customer.objects.count() == 1


def test_create_customer_validation_errors(sales_client):
    response = sales_client.post(
        CUSTOMERS_URL, {"email": "nope", "shipping_address": {"country_code": "FRA"}}, format="json"
    )

    error = _error(response, 400, "validation_error")
    assert error["details"] == {
        "email": ["Enter a valid email address."],
        "shipping_address": {"country_code": ["Enter a two-letter ISO 3166-1 country code."]},
    }


def test_anonymous_cannot_create_customers(api_client):
    _error(api_client.post(CUSTOMERS_URL, {"email": "a@example.com"}, format="json"), 401, "not_authenticated")
    assert Customer.objects.count() == 0


def test_schema_documents_the_crm_endpoints(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths[LEADS_URL]) == {"get", "post"}
    assert set(paths[LEADS_URL]["post"]["responses"]) == {"202", "400", "401", "403", "413", "415", "429", "503"}
    assert {"/api/crm/leads/{lead_id}", CUSTOMERS_URL, "/api/crm/customers/{customer_id}"} <= set(paths)
