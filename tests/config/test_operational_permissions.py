"""Operational endpoints need a specific permission, not just is_staff: the sync API and the live
CJ lookups (`catalog.start_sync`), the admin's CJ refresh (`catalog.start_sync`) and the order
retry/cancel actions (`orders.change_order`), whatever else the user may see."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from config.queues import SYNC_PRODUCTS, get_queue
from orders.models import Order
from tests.catalog.factories import ProductFactory
from tests.crm.factories import SalesUserFactory, StaffUserFactory
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db

REFUSED = {
    "error": {
        "code": "permission_denied",
        "message": "You do not have permission to perform this action.",
        "details": {},
    }
}


def _with(user, *codenames: str):
    for codename in codenames:
        app_label, name = codename.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=name))
    return user


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _body(response) -> dict:
    return {key: value for key, value in response.json().items() if key != "request_id"}


@pytest.mark.parametrize(
    ("method", "url"),
    [("post", "/api/products/sync"), ("get", "/api/cj/product/P1"), ("get", "/api/cj/stock?pid=P1")],
)
def test_staff_without_start_sync_get_403_in_the_error_format(method, url):
    for user in (StaffUserFactory(), SalesUserFactory()):
        response = getattr(_api(user), method)(url, {"kind": "full"} if method == "post" else None)

        assert (response.status_code, _body(response)) == (403, REFUSED)
    assert get_queue(SYNC_PRODUCTS).count == 0


def test_staff_with_start_sync_start_a_sync():
    response = _api(_with(StaffUserFactory(), "catalog.start_sync")).post(
        "/api/products/sync", {"kind": "full"}, format="json"
    )

    assert response.status_code == 202
    assert get_queue(SYNC_PRODUCTS).job_ids == [response.json()["job_id"]]


def test_refresh_from_cj_needs_start_sync_not_just_the_view_permission():
    product = ProductFactory()
    action = {"action": "refresh_from_cj", "_selected_action": [product.pk]}
    viewer = _admin(_with(StaffUserFactory(), "catalog.view_product"))
    syncer = _admin(_with(StaffUserFactory(), "catalog.view_product", "catalog.start_sync"))

    assert 'value="refresh_from_cj"' not in viewer.get("/admin/catalog/product/").content.decode()
    viewer.post("/admin/catalog/product/", action)
    assert get_queue(SYNC_PRODUCTS).count == 0

    syncer.post("/admin/catalog/product/", action)
    assert get_queue(SYNC_PRODUCTS).count == 1


def test_sales_may_list_orders_but_not_retry_or_cancel_them():
    failed, pending = OrderFactory(status=Order.Status.FAILED, failure_reason="rejected"), OrderFactory()
    sales = _admin(SalesUserFactory())

    page = sales.get("/admin/orders/order/").content.decode()
    sales.post("/admin/orders/order/", {"action": "retry_forwarding", "_selected_action": [failed.pk]})
    sales.post("/admin/orders/order/", {"action": "cancel_orders", "_selected_action": [pending.pk]})

    assert failed.number in page
    assert ('value="retry_forwarding"' in page, 'value="cancel_orders"' in page, 'value="export_csv"' in page) == (
        False,
        False,
        True,
    )
    assert set(Order.objects.values_list("number", "status")) == {
        (failed.number, "failed"),
        (pending.number, "paid"),
    }
