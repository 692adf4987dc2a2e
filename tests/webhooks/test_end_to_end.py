"""End to end with the CJ simulator: registration, a signed push to a live server, the worker,
and the storefront API showing the change (its cache invalidated)."""

import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from config.queues import PROCESS_WEBHOOK
from tests.orders.conftest import local_copies_of_sample_product
from webhooks.models import WebhookEvent


def wait_for_events(count: int, *, timeout: float = 15.0) -> list[WebhookEvent]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = list(WebhookEvent.objects.order_by("pk"))
        if len(events) >= count:
            return events
        time.sleep(0.05)
    raise AssertionError(f"expected {count} webhook event(s) within {timeout} s")


@pytest.mark.django_db(transaction=True)
def test_stock_changed_in_the_simulator_shows_in_the_api(cj_simulator, live_server, client, run_worker, capsys):
    # given: our copy of CJ's sample product, its detail cached, the webhook registered
    variants = local_copies_of_sample_product(cj_simulator)
    variant = variants[0]
    detail = f"/api/products/{variant.product_id}"
    stocks = {row["cj_vid"]: row["stock"] for row in client.get(detail).json()["variants"]}
    assert stocks[variant.cj_vid] == 10
    call_command("cj_webhooks", "register", "--url", f"{live_server.url}/api/webhooks/cj")
    assert capsys.readouterr().out.startswith(f"registered {live_server.url}/api/webhooks/cj with CJ")

    # when: stock changes at CJ
    warehouses = cj_simulator.set_stock(variant.cj_vid, 42, country_code="CN")["stock"]
    (event,) = wait_for_events(1)
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}

    # then
    event.refresh_from_db()
    assert (event.topic, event.status) == ("STOCK", "processed")
    expected = sum(warehouses.values())
    stocks = {row["cj_vid"]: row["stock"] for row in client.get(detail).json()["variants"]}
    assert stocks[variant.cj_vid] == expected
    deliveries = cj_simulator.webhooks()
    assert [(entry["type"], entry["status"]) for entry in deliveries["deliveries"]] == [("STOCK", 200)]


@pytest.mark.django_db(transaction=True)
def test_price_change_in_the_simulator_reprices(cj_simulator, live_server, run_worker):
    variant = local_copies_of_sample_product(cj_simulator)[0]
    call_command("cj_webhooks", "register", "--url", f"{live_server.url}/api/webhooks/cj")

    cj_simulator.set_price(variant.cj_vid, "3.10")
    (event,) = wait_for_events(1)
    run_worker(PROCESS_WEBHOOK)

    event.refresh_from_db()
    variant.refresh_from_db()
    assert (event.topic, event.status) == ("VARIANT", "processed")
    assert (str(variant.supplier_cost), str(variant.price)) == ("3.10", "7.90")


@pytest.mark.django_db
def test_register_without_a_url_or_with_cj_down_fails_with_one_line(cj_simulator, settings):
    settings.CJ_WEBHOOK_URL = ""
    with pytest.raises(CommandError, match="no callback URL"):
        call_command("cj_webhooks", "register")

    settings.CJ_API_BASE = "http://127.0.0.1:9/api2.0/v1/"
    settings.CJ_RETRY_ATTEMPTS = 1
    with pytest.raises(CommandError, match="CJ unreachable, webhook not registered"):
        call_command("cj_webhooks", "register", "--url", "http://127.0.0.1:8000/api/webhooks/cj", "--wait", "0")


@pytest.mark.django_db
def test_register_refused_by_cj_is_reported(cj_simulator):
    cj_simulator.reset(insecure_webhooks=False)

    with pytest.raises(CommandError, match="CJ refused the webhook registration"):
        call_command("cj_webhooks", "register", "--url", "http://127.0.0.1:8000/api/webhooks/cj")
