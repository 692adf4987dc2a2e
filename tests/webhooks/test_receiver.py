"""POST /api/webhooks/cj: signature, size and shape checks, storing once, the ack, the enqueue."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config.queues import PROCESS_WEBHOOK, get_queue
from tests.webhooks.conftest import URL, body_of, cj_sign, message, post_signed, sample
from webhooks.messages import message_parse, sign, signature_is_valid
from webhooks.models import WebhookEvent

ACK = {"code": 200, "result": "success", "message": "ok"}


def test_contract_signature_example_verifies():
    example = sample("webhook_signature_example.json")
    body = example["rawBody"].encode()

    assert sign(body, example["secret"]) == example["sign"]
    assert signature_is_valid(body=body, signature=example["sign"], keys=[str(example["openId"])]) is True
    assert signature_is_valid(body=body + b" ", signature=example["sign"], keys=["1234567890"]) is False
    assert signature_is_valid(body=body, signature=example["sign"], keys=["1234567891"]) is False
    assert signature_is_valid(body=body, signature="not base64!", keys=["1234567890"]) is False


@pytest.mark.django_db
def test_signed_message_is_stored_acked_and_enqueued(client, django_capture_on_commit_callbacks):
    # given
    raw = sample("webhook_signature_example.json")["rawBody"].encode()  # CJ's exact bytes

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, raw, HTTP_USER_AGENT="CJ-Push")

    # then
    assert response.status_code == 200
    assert response.json() == ACK
    event = WebhookEvent.objects.get()
    assert (event.provider, event.message_id, event.topic, event.message_type, event.status, event.attempts) == (
        "cj", "0a1b2c3d4e5f40718293a4b5c6d7e8f0", "PRODUCT", "UPDATE", "received", 0,
    )  # fmt: skip
    assert event.raw_body == raw.decode()
    assert event.params == json.loads(raw)["params"]
    assert event.remote_addr == "127.0.0.1"
    assert "sign" not in {name.lower() for name in event.headers}
    assert event.headers["User-Agent"] == "CJ-Push"
    queue = get_queue(PROCESS_WEBHOOK)
    assert queue.job_ids == [f"webhook-{event.pk}"]
    assert queue.fetch_job(f"webhook-{event.pk}").args == (event.pk,)


@pytest.mark.django_db
def test_receiver_skips_csrf_and_session_auth():
    client = Client(enforce_csrf_checks=True)

    response = post_signed(client, message("STOCK", {}))

    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("signature", "reason"),
    [(None, "missing"), ("", "missing"), (cj_sign(b"another body"), "wrong"), ("%%%", "wrong")],
)
def test_missing_or_wrong_signature_is_401_stores_nothing_and_logs(client, json_log_file, signature, reason):
    response = post_signed(client, message("STOCK", {}), signature=signature)

    assert response.status_code == 401
    body = response.json()
    assert body["error"] == {
        "code": "invalid_signature",
        "message": "The webhook signature is missing or wrong.",
        "details": {},
    }
    assert WebhookEvent.objects.count() == 0
    assert get_queue(PROCESS_WEBHOOK).count == 0
    security = [line for line in json_log_file() if line["logger"] == "security"]
    assert [(line["message"], line["client"], line["reason"]) for line in security] == [
        ("security.webhook.bad_signature", "127.0.0.1", reason)
    ]


@pytest.mark.django_db
def test_signature_with_another_accounts_open_id_is_401(client):
    body = body_of(message("STOCK", {}))

    response = post_signed(client, body, signature=cj_sign(body, "999"))

    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_stored_token_open_id_verifies_when_settings_have_none(client, settings):
    from datetime import UTC, datetime, timedelta

    from integrations.cj.client import get_client
    from integrations.cj.types import TokenPair

    settings.CJ_OPEN_ID = ""
    later = datetime.now(UTC) + timedelta(days=10)
    get_client().tokens.save(
        TokenPair(
            access_token="test-access", access_token_expires_at=later,
            refresh_token="test-refresh", refresh_token_expires_at=later, open_id="777",
        )
    )  # fmt: skip
    body = body_of(message("STOCK", {}))

    assert post_signed(client, body, signature=cj_sign(body, "777")).status_code == 200
    assert post_signed(client, body_of(message("STOCK", {}, message_id="m2")), signature=cj_sign(body)).status_code == (
        401
    )


@pytest.mark.django_db
def test_no_known_open_id_is_503(client, settings):
    settings.CJ_OPEN_ID = ""

    response = post_signed(client, message("STOCK", {}))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert WebhookEvent.objects.count() == 0


UNPAIRED = "the body contains an unpaired surrogate escape"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "the body is not valid JSON"),
        (b"[1, 2]", "the body must be a JSON object"),
        (b"", "the body is not valid JSON"),
        (b"\xff\xfe{}", "the body is not UTF-8"),
        (b'{"type": "STOCK", "params": {}}', "'messageId' is required"),
        (b'{"messageId": "  ", "type": "STOCK"}', "'messageId' is required"),
        (b'{"messageId": "m1", "params": {}}', "'type' is required"),
        (b'{"messageId": {"a": 1}, "type": "STOCK"}', "'messageId' must be a string"),
        (b'{"messageId": "m1", "type": "STOCK", "params": "x"}', "'params' must be an object"),
        (b'{"messageId": "m1", "type": "STOCK", "params": {"a": "\\u0000"}}', "the body contains a NUL character"),
        (b'{"messageId": "' + b"x" * 129 + b'", "type": "STOCK"}', "'messageId' is longer than 128 characters"),
        (b"[" * 100_000 + b"]" * 100_000, "the body is not valid JSON"),
        (b'{"messageId": "m1", "type": "STOCK", "params": [[Infinity]]}', "the body is not valid JSON"),
        (b'{"messageId": "m1", "type": "STOCK", "params": {"n": -Infinity}}', "the body is not valid JSON"),
        (b'{"messageId": "m1", "type": "STOCK", "params": {"n": NaN}}', "the body is not valid JSON"),
        (b'{"messageId": "m1", "type": "STOCK", "params": {"a": "\\ud800"}}', UNPAIRED),
        (b'{"messageId": "m1", "type": "STOCK", "params": {"a": "x\\udc00"}}', UNPAIRED),
        (b'{"messageId": "m1", "type": "STOCK", "n": ' + b"9" * 5000 + b"}", "the body is not valid JSON"),
    ],
)
def test_malformed_bodies_are_400(client, body, detail):
    response = post_signed(client, body)

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "The request has invalid fields; see details.",
        "details": {"body": [detail]},
    }
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_surrogate_pair_escape_is_stored(client):
    response = post_signed(client, b'{"messageId": "m1", "type": "NOPE", "params": {"a": "\\ud83d\\ude00"}}')

    assert response.status_code == 200
    assert WebhookEvent.objects.get().params == {"a": "\U0001f600"}


@pytest.mark.django_db
def test_oversized_body_is_413_before_anything_else(client):
    body = json.dumps({"messageId": "big", "type": "STOCK", "params": {"pad": "x" * (1024 * 1024)}}).encode()

    response = post_signed(client, body)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_body_just_under_the_limit_is_accepted(client, settings):
    settings.WEBHOOKS_MAX_BODY_BYTES = 4096
    base = body_of(message("STOCK", {"pad": ""}))
    body = body_of(message("STOCK", {"pad": "x" * (4096 - len(base))}))
    assert len(body) == 4096

    assert post_signed(client, body).status_code == 200
    assert post_signed(client, body_of(message("STOCK", {"pad": "x" * 4096}))).status_code == 413


@pytest.mark.django_db
def test_get_is_405_in_the_error_format(client):
    response = client.get(URL)

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_same_message_ten_times_in_a_row_is_one_row_and_one_job(client, django_capture_on_commit_callbacks):
    body = body_of(sample("webhook_msg_STOCK.json"))

    with django_capture_on_commit_callbacks(execute=True):
        responses = [post_signed(client, body) for _ in range(10)]

    assert [response.status_code for response in responses] == [200] * 10
    assert responses[0].json() == ACK
    assert [response.json()["message"] for response in responses[1:]] == ["duplicate"] * 9
    assert WebhookEvent.objects.count() == 1
    assert get_queue(PROCESS_WEBHOOK).count == 1


@pytest.mark.django_db(transaction=True)
def test_same_message_ten_times_concurrently_is_one_row_and_one_job():
    body = body_of(sample("webhook_msg_STOCK.json"))
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def deliver() -> None:
        client = Client()
        barrier.wait()
        statuses.append(post_signed(client, body).status_code)
        connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert statuses == [200] * 10
    assert WebhookEvent.objects.count() == 1
    assert get_queue(PROCESS_WEBHOOK).count == 1


@pytest.mark.django_db
def test_receipt_costs_one_insert(client):
    body = body_of(sample("webhook_msg_ORDER.json"))

    with CaptureQueriesContext(connection) as queries:
        assert post_signed(client, body).status_code == 200

    # One statement, committed on its own outside the test's transaction: one round trip.
    statements = [query["sql"].split()[0] for query in queries.captured_queries]
    assert statements == ["INSERT"]


def test_message_parse_keeps_the_raw_text_and_upper_cases_the_type():
    parsed = message_parse(b'{"messageId": 12, "type": "stock", "messageType": "update", "params": null}')

    assert (parsed.message_id, parsed.topic, parsed.message_type, parsed.params) == ("12", "STOCK", "UPDATE", {})
