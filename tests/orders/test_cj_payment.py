"""Paying CJ for placed orders, on a real burst worker against the simulator: paid once from the
balance, held by the cost guard and the daily limit, approved by staff, waiting for balance."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from config.queues import CREATE_ORDER, enqueue
from integrations.cj.client import get_client
from orders.cj_balance import cj_balance_check, cj_balance_snapshot
from orders.cj_payment import cost_ceiling, order_cj_payment_approve
from orders.errors import CJPaymentNotHeld
from orders.forwarding import order_forward_to_cj
from orders.models import Order
from tests.orders.conftest import place_order
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)

PAY_FLOW = (
    "shopping/order/addCart",
    "shopping/order/addCartConfirm",
    "shopping/order/saveGenerateParentOrder",
    "shopping/pay/payBalanceV2",
    "shopping/pay/payBalance",
)


def _pay_calls(sim) -> list[int]:
    return [sim.calls(endpoint) for endpoint in PAY_FLOW]


def _cj_order(sim, number: str) -> dict:
    (found,) = [o for o in sim.orders() if o["orderNum"] == number]
    return found


def _payment_timeline(order: Order) -> list[str]:
    """The timeline entries after `placed` (the CJ payment steps), prefixes only for the variable parts."""
    placed = order.events.get(to_status="placed")
    return list(order.events.filter(id__gt=placed.id).values_list("message", flat=True))


def test_placed_order_is_paid_at_cj_from_the_balance(sim_variants, cj_simulator, run_worker):
    order = place_order(sim_variants[0], quantity=2)

    assert run_worker(CREATE_ORDER) == {"finished": 2, "failed": 0}  # forward, then pay

    order.refresh_from_db()
    at_cj = _cj_order(cj_simulator, order.number)
    amount = Decimal(str(at_cj["orderAmount"]))
    assert at_cj["orderStatus"] == "UNSHIPPED"
    assert at_cj["history"] == ["CREATED", "IN_CART", "UNPAID", "UNSHIPPED"]
    assert (order.status, order.cj_payment_status) == ("placed", "paid")
    assert (order.cj_order_amount, order.cj_paid_amount) == (amount, amount)
    assert order.cj_paid_at is not None and order.cj_shipment_order_id.startswith("SO")
    assert cj_simulator.balance()["amount"] == str(Decimal("1000.00") - amount)
    assert _pay_calls(cj_simulator) == [1, 1, 1, 1, 0]
    assert _payment_timeline(order) == [
        "Added to CJ's cart.",
        f"Confirmed at CJ as shipment {order.cj_shipment_order_id}.",
        f"CJ parent order ready to pay ({order.cj_pay_id}).",
        f"Paid at CJ from the balance. {amount} USD.",
    ]


def test_cost_guard_holds_an_order_cj_charges_too_much_for(sim_variants, cj_simulator, run_worker):
    order = place_order(sim_variants[0])
    cj_simulator.set_price(sim_variants[0].cj_vid, "50.00")  # CJ's cost rose after the buyer paid 9.90

    run_worker(CREATE_ORDER)

    order.refresh_from_db()
    amount = Decimal(str(_cj_order(cj_simulator, order.number)["orderAmount"]))
    assert amount > order.total
    assert (order.cj_payment_status, order.cj_order_amount, order.cj_paid_amount) == ("held", amount, None)
    assert _pay_calls(cj_simulator) == [0, 0, 0, 0, 0]
    assert cj_simulator.balance()["amount"] == "1000.00"
    assert _payment_timeline(order) == [
        f"Held for staff approval: CJ asks {amount} USD, more than the {cost_ceiling(order)} the cost guard allows "
        f"(the buyer paid {order.total}, minus the 30% margin floor of the items' {order.items_total})."
    ]
    assert cost_ceiling(order) == order.total - Decimal("2.97")  # 30 % of 9.90


def test_daily_spend_limit_holds_what_would_pass_it(sim_variants, cj_simulator, run_worker, settings):
    settings.CJ_DAILY_SPEND_LIMIT = "20.00"
    now = timezone.now()
    OrderFactory(status="delivered", cj_payment_status="paid", cj_paid_amount=Decimal("15.00"), cj_paid_at=now)
    OrderFactory(  # yesterday's spending does not count
        status="delivered",
        cj_payment_status="paid",
        cj_paid_amount=Decimal("900.00"),
        cj_paid_at=now - timedelta(days=1),
    )
    order = place_order(sim_variants[0])

    run_worker(CREATE_ORDER)

    order.refresh_from_db()
    amount = order.cj_order_amount
    assert amount is not None and amount + Decimal("15.00") > Decimal("20.00")
    assert order.cj_payment_status == "held"
    assert _pay_calls(cj_simulator) == [0, 0, 0, 0, 0]
    assert _payment_timeline(order) == [
        f"Held for staff approval: Paying {amount} would take today's CJ spending to {amount + Decimal('15.00')}, "
        "over CJ_DAILY_SPEND_LIMIT 20.00."
    ]


def test_staff_approval_pays_a_held_order_once(sim_variants, cj_simulator, run_worker, admin_user):
    order = place_order(sim_variants[0])
    cj_simulator.set_price(sim_variants[0].cj_vid, "50.00")
    run_worker(CREATE_ORDER)

    order_cj_payment_approve(order_id=order.pk, staff_user=admin_user)
    with pytest.raises(CJPaymentNotHeld):  # a second approval finds nothing held
        order_cj_payment_approve(order_id=order.pk, staff_user=admin_user)
    # The order's one pay job id (order-cj-pay-<pk>) is reused, so the finished registry keeps one entry.
    assert run_worker(CREATE_ORDER) == {"finished": 0, "failed": 0}

    order.refresh_from_db()
    amount = Decimal(str(_cj_order(cj_simulator, order.number)["orderAmount"]))
    assert (order.cj_payment_status, order.cj_paid_amount) == ("paid", amount)
    assert order.cj_payment_approved_at is not None
    assert order.events.get(message="CJ payment approved by staff.").staff_user == admin_user
    assert _pay_calls(cj_simulator) == [1, 1, 1, 1, 0]
    assert cj_simulator.balance()["amount"] == str(Decimal("1000.00") - amount)


def test_insufficient_balance_waits_then_pays_once_the_balance_allows(sim_variants, cj_simulator, run_worker):
    cj_simulator.set_balance("1.00")
    order = place_order(sim_variants[0])

    assert run_worker(CREATE_ORDER) == {"finished": 2, "failed": 0}
    order.refresh_from_db()
    assert (order.status, order.cj_payment_status) == ("placed", "waiting_balance")
    assert _cj_order(cj_simulator, order.number)["orderStatus"] == "UNPAID"

    # the balance check with the balance still short releases nothing
    assert cj_balance_check() == {"balance": "1.00", "released": 0, "reenqueued": 0, "made_due": 0}
    assert run_worker(CREATE_ORDER) == {"finished": 0, "failed": 0}

    cj_simulator.set_balance("50.00")
    assert cj_balance_check() == {"balance": "50.00", "released": 1, "reenqueued": 0, "made_due": 0}
    assert run_worker(CREATE_ORDER) == {"finished": 0, "failed": 0}  # the order's pay job id, reused

    order.refresh_from_db()
    amount = order.cj_order_amount
    assert amount is not None
    assert (order.cj_payment_status, order.cj_paid_amount) == ("paid", amount)
    assert cj_simulator.balance()["amount"] == str(Decimal("50.00") - amount)
    assert _pay_calls(cj_simulator) == [1, 1, 1, 2, 0]  # the refused payment, then the one that went through
    timeline = _payment_timeline(order)
    assert timeline[3] == f"Waiting for CJ balance: it does not cover {amount} USD (Balance is insufficient)."
    assert timeline[4:] == [f"Paid at CJ from the balance. {amount} USD."]


def test_duplicate_pay_job_after_a_payment_that_was_never_recorded_pays_once(sim_variants, cj_simulator, run_worker):
    # given: a worker paid the order at CJ and was killed before recording it (kill -9)
    order = place_order(sim_variants[0])
    order_forward_to_cj(order_id=order.pk)  # enqueues the pay job after commit
    order.refresh_from_db()
    client = get_client()
    client.add_cart(cj_order_ids=[order.cj_order_id])
    shipment = client.add_cart_confirm(cj_order_ids=[order.cj_order_id]).shipment_order_id
    parent = client.save_generate_parent_order(shipment_order_id=shipment)
    client.pay_balance_v2(shipment_order_id=shipment, pay_id=parent.pay_id)
    enqueue(CREATE_ORDER, "orders.jobs.order_pay_at_cj_job", order.pk)  # and a duplicate job

    # when: both jobs run (and the forwarding job place_order enqueued, which finds the order placed)
    assert run_worker(CREATE_ORDER) == {"finished": 3, "failed": 0}

    # then: CJ was paid once, and we know it
    order.refresh_from_db()
    amount = Decimal(str(_cj_order(cj_simulator, order.number)["orderAmount"]))
    assert (order.cj_payment_status, order.cj_paid_amount) == ("paid", amount)
    assert cj_simulator.calls("shopping/pay/payBalanceV2") == 1
    assert cj_simulator.balance()["amount"] == str(Decimal("1000.00") - amount)
    assert _payment_timeline(order) == [f"Found paid at CJ. {amount} USD."]


def test_order_confirmed_at_cj_whose_shipment_id_was_lost_is_paid_with_pay_balance(
    sim_variants, cj_simulator, run_worker
):
    order = place_order(sim_variants[0])
    order_forward_to_cj(order_id=order.pk)
    order.refresh_from_db()
    client = get_client()
    client.add_cart(cj_order_ids=[order.cj_order_id])
    client.add_cart_confirm(cj_order_ids=[order.cj_order_id])  # killed before the shipment id was written

    assert run_worker(CREATE_ORDER) == {"finished": 2, "failed": 0}  # place_order's forwarding job, the pay job

    order.refresh_from_db()
    assert order.cj_payment_status == "paid"
    assert _pay_calls(cj_simulator) == [1, 1, 0, 0, 1]
    assert _cj_order(cj_simulator, order.number)["orderStatus"] == "UNSHIPPED"


def test_restricted_balance_payment_holds_for_staff(sim_variants, cj_simulator, run_worker):
    cj_simulator.set_balance(restricted=True)
    order = place_order(sim_variants[0])

    run_worker(CREATE_ORDER)

    order.refresh_from_db()
    assert order.cj_payment_status == "held"
    assert _payment_timeline(order)[-1] == (
        "Held for staff: CJ restricts balance payment for the account "
        "(Balance payment is temporarily restricted, please pay in MyCJ): pay it in MyCJ."
    )
    assert cj_simulator.balance() == {"amount": "1000.00", "restricted": True}


def test_paid_and_held_orders_are_left_alone_by_further_jobs(sim_variants, cj_simulator, run_worker):
    order = place_order(sim_variants[0])
    run_worker(CREATE_ORDER)
    calls_before = cj_simulator.stats()["total_calls"]

    enqueue(CREATE_ORDER, "orders.jobs.order_pay_at_cj_job", order.pk)
    assert run_worker(CREATE_ORDER) == {"finished": 1, "failed": 0}

    assert cj_simulator.stats()["total_calls"] == calls_before  # nothing asked of CJ
    assert Order.objects.get(pk=order.pk).cj_payment_status == "paid"


def test_lost_payment_job_is_reenqueued_by_the_balance_check(sim_variants, cj_simulator, run_worker, settings):
    settings.ORDERS_STUCK_AFTER_SECONDS = 0
    order = place_order(sim_variants[0])
    order_forward_to_cj(order_id=order.pk)
    from django_rq import get_queue

    get_queue(CREATE_ORDER).empty()  # the pay job was lost (Redis restored from an older snapshot)

    assert cj_balance_check() == {"balance": "1000.00", "released": 0, "reenqueued": 1, "made_due": 0}
    assert run_worker(CREATE_ORDER) == {"finished": 1, "failed": 0}
    assert Order.objects.get(pk=order.pk).cj_payment_status == "paid"


def test_balance_check_stores_the_balance_and_alerts_below_the_threshold(cj_simulator, settings, caplog, client):
    settings.CJ_BALANCE_ALERT_BELOW = "100.00"
    settings.METRICS_TOKEN = "metrics-test-token"
    cj_simulator.set_balance("42.50")

    with caplog.at_level("ERROR", logger="orders.cj_balance"):
        cj_balance_check()

    snapshot = cj_balance_snapshot()
    assert snapshot is not None
    assert (snapshot.amount, snapshot.is_alerting) == (Decimal("42.50"), True)
    assert [(r.getMessage(), r.amount, r.alert_below) for r in caplog.records] == [
        ("orders.cj_balance.alert", "42.50", "100.00")
    ]
    health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert health["components"]["cj_balance"]["status"] == "error"
    assert health["components"]["cj_balance"]["error"].startswith(
        "RuntimeError: CJ balance 42.50 USD is below CJ_BALANCE_ALERT_BELOW 100.00"
    )
    metrics = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-test-token").content.decode()
    assert 'cj_balance_usd{kind="available"} 42.5' in metrics
    assert "cj_balance_alerting 1.0" in metrics
    assert "cj_balance_alert_below_usd 100.0" in metrics
    assert 'orders_cj_payment{status="held"} 0.0' in metrics


def test_balance_above_the_threshold_is_healthy(cj_simulator, settings, client):
    settings.CJ_BALANCE_ALERT_BELOW = "100.00"
    cj_balance_check()

    component = client.get("/health").json()["components"]["cj_balance"]

    assert {key: component[key] for key in ("status", "amount", "alert_below")} == {
        "status": "ok",
        "amount": "1000.00",
        "alert_below": "100.00",
    }


def test_placed_order_that_never_became_due_is_made_due_and_paid(sim_variants, cj_simulator, run_worker, settings):
    # given: CJ has the order, and it reached `placed` without its payment becoming due
    settings.ORDERS_STUCK_AFTER_SECONDS = 0
    order = place_order(sim_variants[0])
    order_forward_to_cj(order_id=order.pk)
    Order.objects.filter(pk=order.pk).update(cj_payment_status="")
    from django_rq import get_queue

    get_queue(CREATE_ORDER).empty()

    assert cj_balance_check() == {"balance": "1000.00", "released": 0, "reenqueued": 0, "made_due": 1}
    assert run_worker(CREATE_ORDER) == {"finished": 1, "failed": 0}

    order.refresh_from_db()
    assert order.cj_payment_status == "paid"
    assert _payment_timeline(order)[0] == "CJ payment due (found placed, not yet due)."


def test_order_cancelled_at_cj_is_held_not_paid(sim_variants, cj_simulator, run_worker):
    order = place_order(sim_variants[0])
    order_forward_to_cj(order_id=order.pk)
    order.refresh_from_db()
    cj_simulator.advance_order(order.number, "CANCELLED")

    run_worker(CREATE_ORDER)

    order.refresh_from_db()
    assert order.cj_payment_status == "held"
    assert _payment_timeline(order)[-1] == "Held for staff: CJ says the order is CANCELLED."
    assert _pay_calls(cj_simulator) == [0, 0, 0, 0, 0]
    assert cj_simulator.balance()["amount"] == "1000.00"
