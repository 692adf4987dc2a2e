"""Paying CJ orders from the balance: the client's payment methods over real HTTP against the
simulator, which refuses as CJ documents (1604000, 1604001, 1603101) and charges no points."""

from decimal import Decimal

import pytest

from integrations.cj.client import get_client
from integrations.cj.errors import (
    CJBalanceInsufficientError,
    CJBalanceRestrictedError,
    CJNotFoundError,
    CJPaymentError,
    CJPaymentFailedError,
    CJPermanentError,
)
from integrations.cj.types import Balance, CartConfirmation, ParentOrder
from tests.integrations.factories import order_request

PAYMENT_ENDPOINTS = (
    "shopping/order/addCart",
    "shopping/order/addCartConfirm",
    "shopping/order/saveGenerateParentOrder",
    "shopping/pay/payBalanceV2",
)


def _created(number: str = "T-PAY-1") -> tuple[str, Decimal]:
    created = get_client().create_order(order=order_request(number))
    assert created.status == "CREATED"
    assert created.cj_order_id is not None and created.order_amount is not None
    return created.cj_order_id, created.order_amount


def test_documented_flow_cart_confirm_parent_order_pay_balance_v2(cj_simulator):
    # given: an order created without payment (payType 3) and a balance of 100.00
    cj_simulator.reset(balance="100.00", daily_points=1)  # the payment calls must cost no points
    client = get_client()
    cj_id, amount = _created()

    # when: CJ's documented flow
    client.add_cart(cj_order_ids=[cj_id])
    in_cart = client.get_order(order_id=cj_id).status
    confirmation = client.add_cart_confirm(cj_order_ids=[cj_id])
    parent = client.save_generate_parent_order(shipment_order_id=confirmation.shipment_order_id)
    again = client.save_generate_parent_order(shipment_order_id=confirmation.shipment_order_id)
    unpaid = client.get_order(order_id=cj_id).status
    client.pay_balance_v2(shipment_order_id=parent.shipment_order_id, pay_id=parent.pay_id)

    # then
    assert in_cart == "IN_CART"
    assert confirmation == CartConfirmation(
        success_count=1, submit_success=True, shipment_order_id=confirmation.shipment_order_id, intercepted=()
    )
    assert confirmation.shipment_order_id.startswith("SO")
    assert parent == again == ParentOrder(shipment_order_id=confirmation.shipment_order_id, pay_id=parent.pay_id)
    assert unpaid == "UNPAID"
    detail = client.get_order(order_id=cj_id)
    assert (detail.status, detail.paid_at is not None) == ("UNSHIPPED", True)
    assert client.get_balance() == Balance(amount=Decimal("100.00") - amount, frozen=Decimal(0), bonus=Decimal(0))
    assert cj_simulator.balance() == {"amount": str(Decimal("100.00") - amount), "restricted": False}
    assert [cj_simulator.calls(endpoint) for endpoint in PAYMENT_ENDPOINTS] == [1, 1, 2, 1]
    assert client.budget.status().points_used == 0
    assert [o["history"] for o in cj_simulator.orders()] == [["CREATED", "IN_CART", "UNPAID", "UNSHIPPED"]]


def test_paying_twice_is_refused_and_charges_once(cj_simulator):
    client = get_client()
    cj_id, amount = _created()
    client.add_cart(cj_order_ids=[cj_id])
    shipment = client.add_cart_confirm(cj_order_ids=[cj_id]).shipment_order_id
    parent = client.save_generate_parent_order(shipment_order_id=shipment)
    client.pay_balance_v2(shipment_order_id=shipment, pay_id=parent.pay_id)

    with pytest.raises(CJPaymentFailedError) as raised:
        client.pay_balance_v2(shipment_order_id=shipment, pay_id=parent.pay_id)
    with pytest.raises(CJPaymentFailedError):
        client.pay_balance(cj_order_id=cj_id)

    assert raised.value.code == 1603101
    assert cj_simulator.balance()["amount"] == str(Decimal("1000.00") - amount)


def test_insufficient_balance_is_refused_and_changes_nothing(cj_simulator):
    cj_simulator.reset(balance="1.00")
    client = get_client()
    cj_id, _amount = _created()
    client.add_cart(cj_order_ids=[cj_id])
    shipment = client.add_cart_confirm(cj_order_ids=[cj_id]).shipment_order_id
    parent = client.save_generate_parent_order(shipment_order_id=shipment)

    with pytest.raises(CJBalanceInsufficientError) as raised:
        client.pay_balance_v2(shipment_order_id=shipment, pay_id=parent.pay_id)

    assert (raised.value.code, raised.value.reason) == (1604000, "balance_insufficient")
    assert client.get_order(order_id=cj_id).status == "UNPAID"
    assert cj_simulator.balance() == {"amount": "1.00", "restricted": False}


def test_restricted_balance_payment_is_refused_on_both_payment_endpoints(cj_simulator):
    client = get_client()
    cj_id, _amount = _created()
    client.add_cart(cj_order_ids=[cj_id])
    shipment = client.add_cart_confirm(cj_order_ids=[cj_id]).shipment_order_id
    parent = client.save_generate_parent_order(shipment_order_id=shipment)
    cj_simulator.set_balance(restricted=True)

    with pytest.raises(CJBalanceRestrictedError) as v2:
        client.pay_balance_v2(shipment_order_id=shipment, pay_id=parent.pay_id)
    with pytest.raises(CJBalanceRestrictedError) as v1:
        client.pay_balance(cj_order_id=cj_id)

    assert (v2.value.code, v1.value.code) == (1604001, 1604001)
    assert client.get_order(order_id=cj_id).status == "UNPAID"
    assert cj_simulator.balance() == {"amount": "1000.00", "restricted": True}


def test_cart_refusals(cj_simulator):
    client = get_client()
    cj_id, _amount = _created()

    with pytest.raises(CJNotFoundError):
        client.add_cart(cj_order_ids=["999"])
    not_in_cart = client.add_cart_confirm(cj_order_ids=[cj_id])
    with pytest.raises(CJPermanentError) as unknown:  # an unknown shipment is a parameter error
        client.pay_balance_v2(shipment_order_id="SO-unknown", pay_id="PAY-unknown")

    assert not_in_cart == CartConfirmation(
        success_count=0, submit_success=False, shipment_order_id="", intercepted=("order is CREATED, not in the cart",)
    )
    assert (unknown.value.code, isinstance(unknown.value, CJPaymentError)) == (1600300, False)
    assert client.get_order(order_id=cj_id).status == "CREATED"
