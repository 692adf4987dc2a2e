"""Fuzzed webhook bodies: signed or not, the receiver never answers 5xx, and nothing is stored
unless the signature is right."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.webhooks.conftest import post_signed
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "messageId": st.one_of(st.text(max_size=40), st.integers(), st.none()),
        "type": st.one_of(
            st.sampled_from(["PRODUCT", "VARIANT", "STOCK", "ORDER", "LOGISTIC", "ORDERSPLIT"]), st.text(max_size=12)
        ),
        "messageType": st.text(max_size=12),
        "openId": st.one_of(st.integers(), st.text(max_size=12)),
        "params": json_values,
    },
)
bodies = st.one_of(st.binary(max_size=300), messages.map(lambda message: json.dumps(message).encode()))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(body=bodies)
def test_signed_fuzz_never_5xx(client, body):
    response = post_signed(client, body)

    assert response.status_code in (200, 400), (response.status_code, body[:200])
    assert set(response.json()) >= ({"code"} if response.status_code == 200 else {"error", "request_id"})


@FUZZ
@given(body=bodies, signature=st.one_of(st.none(), st.text(max_size=60)))
def test_unsigned_or_badly_signed_fuzz_is_401_and_stores_nothing(client, body, signature):
    before = WebhookEvent.objects.count()

    response = post_signed(client, body, signature=signature)

    assert response.status_code == 401, (response.status_code, body[:200])
    assert response.json()["error"]["code"] == "invalid_signature"
    assert WebhookEvent.objects.count() == before
