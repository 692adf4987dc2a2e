"""Object-level access, for every endpoint that returns one object: who may read it, and what the
others get (the API's error format, and nothing that tells them whether the object exists)."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.queues import CREATE_ORDER, SYNC_PRODUCTS, get_queue
from tests.crm.factories import CustomerFactory, LeadFactory, SalesUserFactory, StaffUserFactory, UserFactory
from tests.orders.factories import OrderFactory


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _error_code(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def _staff_only_urls() -> dict[str, str]:
    job = get_queue(SYNC_PRODUCTS).enqueue("catalog.jobs.products_sync_job")
    return {
        "lead": f"/api/crm/leads/{LeadFactory().pk}",
        "customer": f"/api/crm/customers/{CustomerFactory().pk}",
        "job": f"/api/jobs/{job.id}",
    }


@pytest.mark.django_db
def test_staff_only_objects_refuse_anonymous_buyers_and_staff_without_permission():
    urls = _staff_only_urls()
    buyer = _client(UserFactory())
    for name, url in urls.items():
        assert _error_code(_client().get(url)) == (401, "not_authenticated"), name
        assert _error_code(buyer.get(url)) == (403, "permission_denied"), name
    # Staff without the CRM permissions may not read leads or customers.
    bare_staff = _client(StaffUserFactory())
    assert _error_code(bare_staff.get(urls["lead"])) == (403, "permission_denied")
    assert _error_code(bare_staff.get(urls["customer"])) == (403, "permission_denied")
    # The Sales group reads leads and customers, not job statuses (those need the dashboard's or
    # the sync permission).
    sales = _client(SalesUserFactory())
    assert [sales.get(url).status_code for url in urls.values()] == [200, 200, 403]
    assert _error_code(bare_staff.get(urls["job"])) == (403, "permission_denied")


def _staff_with(*codenames: str):
    user = StaffUserFactory()
    for codename in codenames:
        app_label, name = codename.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=name))
    return user


@pytest.mark.django_db
def test_job_statuses_need_the_dashboard_permission_or_the_sync_permission_for_sync_jobs():
    sync_job = get_queue(SYNC_PRODUCTS).enqueue("catalog.jobs.products_sync_job")
    order_job = get_queue(CREATE_ORDER).enqueue("orders.jobs.order_forward_to_cj_job", 1)
    syncer = _client(_staff_with("catalog.start_sync"))
    operator = _client(_staff_with("django_rq.admin"))

    assert syncer.get(f"/api/jobs/{sync_job.id}").json()["status"] == "queued"
    # Another queue's job does not exist for a syncer: 404 as for an unknown id.
    assert _error_code(syncer.get(f"/api/jobs/{order_job.id}")) == (404, "not_found")
    assert [operator.get(f"/api/jobs/{job.id}").json()["queue"] for job in (sync_job, order_job)] == [
        SYNC_PRODUCTS,
        CREATE_ORDER,
    ]


@pytest.mark.django_db
def test_an_order_is_read_with_its_own_token_or_by_staff_only():
    mine, other = OrderFactory(), OrderFactory()
    url = f"/api/orders/{mine.number}"
    anonymous = _client()

    # Without its token, an order does not exist: 404, as for a number never issued.
    assert _error_code(anonymous.get(url)) == (404, "not_found")
    assert _error_code(anonymous.get(url, HTTP_X_ORDER_TOKEN=other.access_token)) == (404, "not_found")
    assert _error_code(anonymous.get("/api/orders/DS-NOSUCH", HTTP_X_ORDER_TOKEN=mine.access_token)) == (
        404,
        "not_found",
    )
    assert _error_code(_client(UserFactory()).get(url)) == (404, "not_found")
    assert anonymous.get(url, HTTP_X_ORDER_TOKEN=mine.access_token).json()["number"] == mine.number
    assert _client(StaffUserFactory()).get(url).json()["number"] == mine.number
