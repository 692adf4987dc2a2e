"""The buyer pays before anything reaches CJ: intake with a PaymentIntent, Stripe's webhooks,
expiry, refunds and external payments, over real HTTP against localstripe and the CJ simulator."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from catalog.models import Variant
from config.queues import CREATE_ORDER, PROCESS_WEBHOOK, get_queue
from orders import payments
from orders.forwarding import order_forward_to_cj
from orders.models import Order
from orders.sweeps import orders_sweep
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = {"line1": "1 Main St", "city": "Austin", "province": "TX", "zip": "78701", "country_code": "US"}
WEBHOOK_URL = "/api/webhooks/stripe"


def _accept(api_client, variant, *, quantity=2, key=None, **extra):
    body = {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "shipping_address": ADDRESS,
        "items": [{"variant_id": variant.pk, "quantity": quantity}],
        **extra,
    }
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api_client.post("/api/orders", body, format="json", **headers)


def _post_event(api_client, localstripe, event_type, intent, *, event_id=None, signature=None):
    payload = localstripe.event(event_type, intent, event_id=event_id)
    return api_client.post(
        WEBHOOK_URL,
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature if signature is not None else localstripe.sign(payload),
    )


def _pay(api_client, localstripe, order, *, event_id=None):
    """The buyer confirms with the test card at localstripe; Stripe's signed event reaches us."""
    payments.payment_intent_confirm_with_test_card(order.payment_intent_id)
    intent = localstripe.payment_intent(order.payment_intent_id)
    assert intent["status"] == "succeeded"
    response = _post_event(api_client, localstripe, "payment_intent.succeeded", intent, event_id=event_id)
    assert response.status_code == 200, response.content
    return response


def test_an_unpaid_order_never_reaches_cj(api_client, sim_variants, cj_simulator, run_worker):
    response = _accept(api_client, sim_variants[0])
    order = Order.objects.get(number=response.json()["number"])

    # nothing was enqueued; forwarding it anyway (a stray job, a sweep) does not call CJ
    assert get_queue(CREATE_ORDER).count == 0
    calls_before = cj_simulator.stats()["calls"]
    assert order_forward_to_cj(order_id=order.pk).status == "awaiting_payment"
    assert run_worker() == {"finished": 0, "failed": 0}
    assert cj_simulator.orders() == []
    assert cj_simulator.stats()["calls"] == calls_before
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 8  # reserved while waiting


def test_payment_delivered_by_localstripe_places_the_order_at_cj(
    api_client, sim_variants, cj_simulator, run_worker, live_server, localstripe
):
    localstripe.deliver_to(f"{live_server.url}{WEBHOOK_URL}")
    order = Order.objects.get(number=_accept(api_client, sim_variants[0]).json()["number"])

    payments.payment_intent_confirm_with_test_card(order.payment_intent_id)
    deadline = time.monotonic() + 15
    while not WebhookEvent.objects.filter(provider="stripe").exists() and time.monotonic() < deadline:
        time.sleep(0.1)

    event = WebhookEvent.objects.get(provider="stripe")
    assert (event.topic, event.status, event.params["id"]) == (
        "payment_intent.succeeded",
        "received",
        order.payment_intent_id,
    )
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}
    assert run_worker(CREATE_ORDER) == {"finished": 2, "failed": 0}  # forwarding, then paying at CJ
    order.refresh_from_db()
    assert (order.status, order.paid_amount, order.payment_held) == ("placed", order.total, False)
    assert [o["orderNum"] for o in cj_simulator.orders()] == [order.number]
    assert list(order.events.exclude(to_status="").values_list("from_status", "to_status")) == [
        ("", "awaiting_payment"),
        ("awaiting_payment", "paid"),
        ("paid", "forwarding"),
        ("forwarding", "placed"),
    ]  # then the CJ payment's own notes


def test_a_duplicate_succeeded_event_has_one_effect(api_client, sim_variants, cj_simulator, run_worker, localstripe):
    order = Order.objects.get(number=_accept(api_client, sim_variants[0]).json()["number"])

    first = _pay(api_client, localstripe, order, event_id="evt_same")
    intent = localstripe.payment_intent(order.payment_intent_id)
    again = _post_event(api_client, localstripe, "payment_intent.succeeded", intent, event_id="evt_same")
    # Stripe may also send the same news under another event id
    other = _post_event(api_client, localstripe, "payment_intent.succeeded", intent, event_id="evt_other")

    assert (first.json(), again.json(), other.json()) == (
        {"received": True, "duplicate": False},
        {"received": True, "duplicate": True},
        {"received": True, "duplicate": False},
    )
    assert WebhookEvent.objects.filter(provider="stripe").count() == 2
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 2, "failed": 0}
    assert run_worker(CREATE_ORDER) == {"finished": 2, "failed": 0}  # forwarding, then paying at CJ
    order.refresh_from_db()
    assert order.status == "placed"
    assert list(order.events.filter(to_status="paid").values_list("from_status", flat=True)) == ["awaiting_payment"]
    assert [o["orderNum"] for o in cj_simulator.orders()] == [order.number]
    assert sorted(WebhookEvent.objects.values_list("outcome", flat=True)) == sorted(
        [f"order {order.number} is paid", f"order {order.number} is paid"]
    )


@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=0000", "wrong-secret", "stale"],
    ids=["missing", "garbage", "wrong-secret", "older-than-300s"],
)
def test_a_bad_signature_is_400_and_stores_nothing(api_client, localstripe, signature):
    payload = localstripe.event("payment_intent.succeeded", {"id": "pi_x", "amount": 100, "currency": "usd"})
    if signature == "wrong-secret":
        signature = localstripe.sign(payload, secret="whsec_not_ours")
    elif signature == "stale":
        signature = localstripe.sign(payload, timestamp=int(time.time()) - 301)

    response = api_client.post(WEBHOOK_URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_signature",
        "message": "The Stripe-Signature header is missing, wrong or too old.",
        "details": {},
    }
    assert WebhookEvent.objects.count() == 0
    assert get_queue(PROCESS_WEBHOOK).count == 0


def test_a_wrong_amount_is_held_for_staff_and_not_forwarded(api_client, sim_variants, run_worker, localstripe):
    order = Order.objects.get(number=_accept(api_client, sim_variants[0]).json()["number"])
    intent = {**localstripe.payment_intent(order.payment_intent_id), "status": "succeeded"}
    intent["amount"] = intent["amount_received"] = intent["amount"] - 1

    assert _post_event(api_client, localstripe, "payment_intent.succeeded", intent).status_code == 200
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}

    order.refresh_from_db()
    expected = f"received {order.total - Decimal('0.01')} USD, expected {order.total} USD"
    assert (order.status, order.payment_held, order.payment_hold_reason) == ("awaiting_payment", True, expected)
    assert order.events.last().message == f"Payment held for staff: {expected}."
    assert get_queue(CREATE_ORDER).count == 0
    # the expiry leaves a held payment to staff
    Order.objects.filter(pk=order.pk).update(status_changed_at=timezone.now() - timedelta(hours=2))
    assert orders_sweep()["expiring"] == 0


def test_a_failed_payment_attempt_is_on_the_timeline(api_client, sim_variants, run_worker, localstripe):
    order = Order.objects.get(number=_accept(api_client, sim_variants[0]).json()["number"])
    intent = {
        **localstripe.payment_intent(order.payment_intent_id),
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }

    assert _post_event(api_client, localstripe, "payment_intent.payment_failed", intent).status_code == 200
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}

    order.refresh_from_db()
    assert order.status == "awaiting_payment"
    assert order.events.last().message == "Payment attempt failed: Your card was declined. (card_declined)."


def test_expiry_releases_stock_and_cancels_the_payment_intent(
    api_client, sim_variants, run_worker, localstripe, settings
):
    settings.ORDERS_PAYMENT_TIMEOUT_MINUTES = 30
    order = Order.objects.get(number=_accept(api_client, sim_variants[0], quantity=3).json()["number"])
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 7
    Order.objects.filter(pk=order.pk).update(status_changed_at=timezone.now() - timedelta(minutes=31))

    assert orders_sweep()["expiring"] == 1
    assert run_worker(CREATE_ORDER) == {"finished": 1, "failed": 0}

    order.refresh_from_db()
    assert order.status == "expired"
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 10
    assert localstripe.payment_intent(order.payment_intent_id)["status"] == "canceled"
    assert order.events.last().message == "Unpaid after 30 min: expired, stock released, payment cancelled."
    assert orders_sweep()["expiring"] == 0


def test_expiry_of_an_order_paid_whose_webhook_never_came_forwards_it(
    api_client, sim_variants, cj_simulator, run_worker, localstripe
):
    order = Order.objects.get(number=_accept(api_client, sim_variants[0]).json()["number"])
    payments.payment_intent_confirm_with_test_card(order.payment_intent_id)  # no webhook delivered
    Order.objects.filter(pk=order.pk).update(status_changed_at=timezone.now() - timedelta(hours=1))

    assert orders_sweep()["expiring"] == 1
    run_worker(CREATE_ORDER)
    run_worker(CREATE_ORDER)

    order.refresh_from_db()
    assert (order.status, order.paid_amount) == ("placed", order.total)
    assert [o["orderNum"] for o in cj_simulator.orders()] == [order.number]


def _refunds(localstripe, payment_intent_id):
    response = requests.get(
        f"{localstripe.root}/v1/refunds",
        params={"payment_intent": payment_intent_id},
        headers={"Authorization": "Bearer sk_localstripe"},
        timeout=10,
    )
    return [(refund["amount"], refund["status"]) for refund in response.json()["data"]]


def test_cancelling_a_paid_order_refunds_the_buyer(api_client, sim_variants, run_worker, localstripe):
    from orders.services import order_cancel

    order = Order.objects.get(number=_accept(api_client, sim_variants[0]).json()["number"])
    _pay(api_client, localstripe, order)
    run_worker(PROCESS_WEBHOOK)
    get_queue(CREATE_ORDER).empty()  # staff cancel before the forwarding job runs

    order_cancel(order_id=order.pk, reason="buyer asked")
    assert run_worker(CREATE_ORDER) == {"finished": 1, "failed": 0}

    order.refresh_from_db()
    assert (order.status, order.refunded_amount, order.refund_id.startswith("re_")) == ("refunded", order.total, True)
    assert _refunds(localstripe, order.payment_intent_id) == [(int(order.total * 100), "succeeded")]
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 10
    assert order.events.last().message == f"Refunded {order.total} USD to the buyer automatically ({order.refund_id})."


def test_a_variant_gone_at_cj_refunds_the_buyer(api_client, sim_variants, cj_simulator, run_worker, localstripe):
    order = Order.objects.get(number=_accept(api_client, sim_variants[0]).json()["number"])
    cj_simulator.remove_variant(sim_variants[0].cj_vid)
    _pay(api_client, localstripe, order)
    run_worker(PROCESS_WEBHOOK)

    run_worker(CREATE_ORDER)  # forwarding fails for good, then the refund job
    run_worker(CREATE_ORDER)

    order.refresh_from_db()
    assert (order.status, order.failure_reason, order.refunded_amount) == (
        "refunded",
        "variant_unavailable",
        order.total,
    )
    assert _refunds(localstripe, order.payment_intent_id) == [(int(order.total * 100), "succeeded")]
    assert cj_simulator.orders() == []


def test_stripe_down_is_503_and_reserves_nothing(api_client, sim_variants, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    response = _accept(api_client, sim_variants[0])

    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "service_unavailable",
        "message": "Payments are unavailable right now; try again shortly.",
        "details": {},
    }
    assert Order.objects.count() == 0
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 10


def test_a_retried_intake_answers_the_same_payment_intent(api_client, sim_variants):
    first = _accept(api_client, sim_variants[0], key="retry-key-0001").json()
    again = _accept(api_client, sim_variants[0], key="retry-key-0001").json()

    assert again == first
    assert first["payment"]["client_secret"].startswith(first["payment"]["payment_intent_id"])
    assert Order.objects.count() == 1


def _intents(localstripe):
    response = requests.get(
        f"{localstripe.root}/v1/payment_intents",
        headers={"Authorization": "Bearer sk_localstripe"},
        timeout=10,
    )
    return {intent["id"]: intent["status"] for intent in response.json()["data"]}


def test_an_order_that_cannot_be_placed_cancels_its_payment_intent(api_client, sim_variants, localstripe):
    response = _accept(api_client, sim_variants[0], quantity=11)

    assert response.status_code == 409
    assert list(_intents(localstripe).values()) == ["canceled"]
    assert Order.objects.count() == 0


def test_staff_refund_buyer_of_a_held_payment(api_client, sim_variants, run_worker, localstripe, staff_user):
    from django.contrib.auth.models import Permission
    from django.test import Client

    order = Order.objects.get(number=_accept(api_client, sim_variants[0]).json()["number"])
    payments.payment_intent_confirm_with_test_card(order.payment_intent_id)
    intent = {**localstripe.payment_intent(order.payment_intent_id), "currency": "eur"}
    _post_event(api_client, localstripe, "payment_intent.succeeded", intent)
    run_worker(PROCESS_WEBHOOK)
    staff_user.user_permissions.add(*Permission.objects.filter(codename__in=["view_order", "change_order"]))
    admin = Client()
    admin.force_login(staff_user)

    page = admin.post(
        "/admin/orders/order/", {"action": "refund_buyer", "_selected_action": [order.pk]}, follow=True
    ).content.decode()

    order.refresh_from_db()
    assert f"1 order(s) refunded: {order.number}." in page
    assert (order.status, order.refunded_amount, order.events.last().staff_user) == (
        "refunded",
        order.total,
        staff_user,
    )
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 10
    change_page = admin.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert order.payment_intent_id in change_page and order.refund_id in change_page


@pytest.mark.parametrize("provider", ["external"])
def test_external_payments_need_the_storefront_token_and_a_reference(api_client, sim_variants, settings, provider):
    settings.PAYMENTS_PROVIDER = provider
    settings.STOREFRONT_API_TOKEN = "storefront-token-for-tests"

    anonymous = _accept(api_client, sim_variants[0], payment_reference="pay-123")
    wrong = _accept(api_client, sim_variants[0], payment_reference="pay-123", HTTP_AUTHORIZATION="Bearer nope")
    api_client.credentials(HTTP_AUTHORIZATION="Bearer storefront-token-for-tests")
    without_reference = _accept(api_client, sim_variants[0])
    accepted = _accept(api_client, sim_variants[0], payment_reference="pay-123")

    assert (anonymous.status_code, wrong.status_code, without_reference.status_code) == (401, 401, 400)
    assert without_reference.json()["error"]["details"] == {"payment_reference": ["Required with external payments."]}
    assert accepted.status_code == 202, accepted.content
    order = Order.objects.get()
    assert accepted.json()["payment"] == {
        "provider": "external",
        "amount": str(order.total),
        "currency": "USD",
        "payment_intent_id": None,
        "client_secret": None,
        "reference": "pay-123",
    }
    assert (order.status, order.paid_amount, order.payment_reference) == ("paid", order.total, "pay-123")
    assert get_queue(CREATE_ORDER).count == 1


def test_stripe_mode_refuses_a_payment_reference(api_client, sim_variants):
    response = _accept(api_client, sim_variants[0], payment_reference="i-paid-honest")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"payment_reference": ["Only accepted with external payments."]}
    assert Order.objects.count() == 0


def test_cancelling_an_unpaid_order_cancels_its_payment_intent(api_client, sim_variants, run_worker, localstripe):
    from orders.services import order_cancel

    order = Order.objects.get(number=_accept(api_client, sim_variants[0]).json()["number"])

    order_cancel(order_id=order.pk)
    assert run_worker(CREATE_ORDER) == {"finished": 1, "failed": 0}

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("cancelled", Decimal("0.00"))
    assert localstripe.payment_intent(order.payment_intent_id)["status"] == "canceled"
    assert Variant.objects.get(pk=sim_variants[0].pk).stock == 10


def test_a_payment_for_an_expired_order_is_refunded(api_client, sim_variants, cj_simulator, run_worker, localstripe):
    order = Order.objects.get(number=_accept(api_client, sim_variants[0]).json()["number"])
    Order.objects.filter(pk=order.pk).update(status="expired")  # expired while the buyer was paying

    _pay(api_client, localstripe, order)
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}
    assert run_worker(CREATE_ORDER) == {"finished": 1, "failed": 0}

    order.refresh_from_db()
    assert (order.status, order.paid_amount, order.refunded_amount) == ("refunded", order.total, order.total)
    assert _refunds(localstripe, order.payment_intent_id) == [(int(order.total * 100), "succeeded")]
    assert cj_simulator.orders() == []


def test_an_event_type_we_do_not_handle_is_stored_and_ignored(api_client, run_worker, localstripe):
    response = _post_event(api_client, localstripe, "charge.refunded", {"id": "ch_1", "object": "charge"})

    assert response.status_code == 200
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}
    event = WebhookEvent.objects.get()
    assert (event.provider, event.topic, event.status, event.outcome) == (
        "stripe",
        "charge.refunded",
        "ignored",
        "type charge.refunded is not handled",
    )


def test_without_a_webhook_secret_the_receiver_is_503_and_stores_nothing(api_client, localstripe, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = localstripe.event("payment_intent.succeeded", {"id": "pi_x", "amount": 1, "currency": "usd"})

    response = api_client.post(
        WEBHOOK_URL,
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=localstripe.sign(payload, secret="x"),
    )

    assert (response.status_code, response.json()["error"]["code"]) == (503, "service_unavailable")
    assert WebhookEvent.objects.count() == 0


def test_a_retried_refund_with_the_same_key_refunds_once(api_client, sim_variants, localstripe):
    order = Order.objects.get(number=_accept(api_client, sim_variants[0]).json()["number"])
    payments.payment_intent_confirm_with_test_card(order.payment_intent_id)

    first = payments.refund_create(
        payment_intent_id=order.payment_intent_id, amount=order.total, currency="USD", idempotency_key="refund-once"
    )
    again = payments.refund_create(
        payment_intent_id=order.payment_intent_id, amount=order.total, currency="USD", idempotency_key="refund-once"
    )

    assert again == first
    assert _refunds(localstripe, order.payment_intent_id) == [(int(order.total * 100), "succeeded")]
