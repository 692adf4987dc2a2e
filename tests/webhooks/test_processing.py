"""Processing on the `process-webhook` queue: every CJ sample to its effect, through the real
receiver and a real burst worker; ordering, idempotency, failures, replay and the sweeper."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Product, Variant
from config.queues import PROCESS_WEBHOOK, enqueue, get_queue
from orders.models import Order
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.orders.factories import OrderFactory
from tests.webhooks.conftest import message, post_signed, queue_redis_refusing, sample
from webhooks import dispatch
from webhooks.jobs import webhook_event_process_job
from webhooks.models import WebhookEvent
from webhooks.services import (
    webhook_event_mark_ignored,
    webhook_event_process,
    webhook_event_replay,
    webhook_events_sweep,
)

SAMPLE_PID = "2408300610371613200"
SAMPLE_VID = "2408300610371613201"
SAMPLE_CJ_ORDER = "2409011200000000001"


def deliver_and_process(client, run_worker, payload) -> WebhookEvent:
    response = post_signed(client, payload)
    assert response.status_code == 200
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}
    return WebhookEvent.objects.get(message_id=payload["messageId"])


@pytest.mark.django_db(transaction=True)
def test_product_sample_updates_the_description_and_the_cached_detail(client, run_worker):
    product = ProductFactory(cj_pid=SAMPLE_PID, description="<p>Old.</p>")
    assert client.get(f"/api/products/{product.pk}").json()["description"] == "<p>Old.</p>"  # now cached

    event = deliver_and_process(client, run_worker, sample("webhook_msg_PRODUCT.json"))

    assert (event.status, event.attempts, event.error) == ("processed", 1, "")
    assert event.outcome == f"product {SAMPLE_PID} updated"
    assert event.processed_at is not None
    product.refresh_from_db()
    assert (product.description, product.status) == ("<p>Updated description.</p>", "active")
    assert client.get(f"/api/products/{product.pk}").json()["description"] == "<p>Updated description.</p>"


@pytest.mark.django_db(transaction=True)
def test_variant_sample_reprices_through_the_rule(client, run_worker):
    variant = VariantFactory(cj_vid=SAMPLE_VID, supplier_cost=Decimal("4.00"), price=Decimal("9.90"))

    event = deliver_and_process(client, run_worker, sample("webhook_msg_VARIANT.json"))

    assert (event.status, event.outcome) == ("processed", f"variant {SAMPLE_VID} updated")
    variant.refresh_from_db()
    assert (variant.supplier_cost, variant.price, variant.status) == (Decimal("2.45"), Decimal("5.90"), "active")
    assert Product.objects.get(pk=variant.product_id).min_price == Decimal("5.90")


@pytest.mark.django_db(transaction=True)
def test_stock_sample_sets_the_sum_of_the_warehouses_and_refreshes_the_cached_detail(client, run_worker):
    variant = VariantFactory(cj_vid=SAMPLE_VID, stock=10)
    detail = f"/api/products/{variant.product_id}"
    assert client.get(detail).json()["variants"][0]["stock"] == 10  # now cached

    event = deliver_and_process(client, run_worker, sample("webhook_msg_STOCK.json"))

    assert event.status == "processed"
    assert event.outcome == "stock of 1 variant(s) set, 0 unchanged, not carried or older than ours"
    variant.refresh_from_db()
    assert (variant.stock, variant.stock_updated_at) == (395 + 78, event.received_at)
    assert client.get(detail).json()["variants"][0]["stock"] == 473


@pytest.mark.django_db(transaction=True)
def test_order_sample_ships_the_order(client, run_worker):
    order = OrderFactory(number="SHOP-1001", status=Order.Status.PLACED, cj_order_id=SAMPLE_CJ_ORDER)

    event = deliver_and_process(client, run_worker, sample("webhook_msg_ORDER.json"))

    assert (event.status, event.outcome) == ("processed", "order SHOP-1001 is shipped")
    order.refresh_from_db()
    assert (order.status, order.cj_status, order.tracking_number, order.tracking_url) == (
        "shipped", "SHIPPED", "CJPKTEST000000001YQ", "https://track.example.test/CJPKTEST000000001YQ",
    )  # fmt: skip
    timeline = list(order.events.values_list("from_status", "to_status"))
    assert timeline == [("placed", "shipped")]


@pytest.mark.django_db(transaction=True)
def test_order_connected_sample_sets_the_cj_order_id(client, run_worker):
    order = OrderFactory(number="SHOP-1002", status=Order.Status.FORWARDING, cj_order_id="")

    event = deliver_and_process(client, run_worker, sample("webhook_msg_ORDER_connected.json"))

    assert (event.status, event.message_type, event.outcome) == (
        "processed",
        "ORDER_CONNNECTED",
        "order SHOP-1002 is placed",
    )
    order.refresh_from_db()
    assert (order.status, order.cj_order_id, order.cj_status) == ("placed", "2409011200000000002", "UNPAID")
    assert order.events.get().message.startswith("CJ webhook order connected: ")


@pytest.mark.django_db(transaction=True)
def test_ordersplit_sample_is_recorded_on_the_timeline(client, run_worker):
    order = OrderFactory(number="SHOP-1001", status=Order.Status.PLACED, cj_order_id=SAMPLE_CJ_ORDER)

    event = deliver_and_process(client, run_worker, sample("webhook_msg_ORDERSPLIT.json"))

    assert (event.status, event.outcome) == ("processed", "split recorded on order SHOP-1001")
    entry = order.events.get()
    assert (entry.message, entry.to_status) == ("CJ split the order into 2 parts.", "")
    assert [part["orderCode"] for part in entry.data["split"]["splitOrderList"]] == [
        "2409011200000000011",
        "2409011200000000012",
    ]


@pytest.mark.django_db(transaction=True)
def test_logistic_sample_delivers_the_order_with_its_events(client, run_worker):
    order = OrderFactory(number="SHOP-1001", status=Order.Status.SHIPPED, cj_order_id=SAMPLE_CJ_ORDER)

    event = deliver_and_process(client, run_worker, sample("webhook_msg_LOGISTIC.json"))

    assert (event.status, event.outcome) == ("processed", "tracking applied to order SHOP-1001 (delivered)")
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == ("delivered", "CJPKTEST000000001YQ")
    entry = order.events.get()
    assert (entry.from_status, entry.to_status) == ("shipped", "delivered")
    assert entry.message == "Tracking CJPKTEST000000001YQ: status 12 Delivered, front door"
    assert [item["status"] for item in entry.data["events"]] == [1, 12]


@pytest.mark.django_db(transaction=True)
def test_sourcing_sample_is_stored_and_ignored(client, run_worker):
    event = deliver_and_process(client, run_worker, sample("webhook_msg_SOURCINGCREATE.json"))

    assert (event.status, event.attempts, event.outcome) == ("ignored", 1, "type SOURCINGCREATE is not handled")


@pytest.mark.django_db(transaction=True)
def test_redelivered_messages_have_one_effect(client, run_worker):
    order = OrderFactory(number="SHOP-1001", status=Order.Status.PLACED, cj_order_id=SAMPLE_CJ_ORDER)
    payload = sample("webhook_msg_ORDERSPLIT.json")

    assert [post_signed(client, payload).status_code for _ in range(10)] == [200] * 10
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}
    # a second job for the same event (e.g. the sweeper raced the first) changes nothing
    enqueue(PROCESS_WEBHOOK, webhook_event_process_job, WebhookEvent.objects.get().pk)
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}

    assert WebhookEvent.objects.get().attempts == 1
    assert order.events.count() == 1


@pytest.mark.django_db(transaction=True)
def test_redis_down_at_receipt_then_stored_acked_and_processed_by_the_sweeper(
    client, run_worker, settings, json_log_file
):
    # given
    variant = VariantFactory(cj_vid=SAMPLE_VID, stock=10)

    # when: the queue's Redis refuses connections while CJ delivers
    with queue_redis_refusing(settings):
        response = post_signed(client, sample("webhook_msg_STOCK.json"))

    # then: stored and acknowledged, nothing queued
    assert (response.status_code, response.json()["result"]) == (200, "success")
    event = WebhookEvent.objects.get()
    assert event.status == "received"
    assert get_queue(PROCESS_WEBHOOK).count == 0
    assert [line["queue"] for line in json_log_file() if line["message"] == "jobs.enqueue.outage"] == [PROCESS_WEBHOOK]

    # when Redis is back, the sweeper finds it
    settings.WEBHOOKS_SWEEP_AFTER_SECONDS = 0
    call_command("cj_webhooks", "sweep")
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}

    event.refresh_from_db()
    variant.refresh_from_db()
    assert (event.status, variant.stock) == ("processed", 473)


@pytest.mark.django_db(transaction=True)
def test_transient_failures_are_retried_then_marked_failed(client, run_worker, monkeypatch):
    def broken(events: list[WebhookEvent]) -> dict[int, str]:
        raise ConnectionError("warehouse service unreachable")

    # STOCK events are applied in batches (dispatch.stock_events_apply); the forked horses inherit it
    monkeypatch.setattr(dispatch, "stock_events_apply", broken)

    post_signed(client, sample("webhook_msg_STOCK.json"))
    counts = run_worker(PROCESS_WEBHOOK)

    assert counts == {"finished": 0, "failed": 1}  # 1 try + 3 retries (RQ_RETRY_INTERVALS=0,0,0), then dead letter
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts, event.error) == (
        "failed",
        4,
        "ConnectionError: warehouse service unreachable",
    )
    assert get_queue(PROCESS_WEBHOOK).failed_job_registry.get_job_ids() == [f"webhook-{event.pk}"]

    # staff replay once the cause is gone
    monkeypatch.undo()
    variant = VariantFactory(cj_vid=SAMPLE_VID, stock=10)
    webhook_event_replay(event_id=event.pk)
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}
    event.refresh_from_db()
    variant.refresh_from_db()
    assert (event.status, event.attempts, event.error, variant.stock) == ("processed", 5, "", 473)


@pytest.mark.django_db
def test_malformed_params_fail_at_once_without_retry(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, message("VARIANT", {"variantSellPrice": 2.1}))
    event = WebhookEvent.objects.get()

    with CaptureQueriesContext(connection) as queries:
        processed = webhook_event_process(event_id=event.pk, is_last_attempt=False)

    assert (processed.status, processed.attempts, processed.error) == (
        "failed",
        1,
        "Invalid payload: params.vid is missing",
    )
    processed.refresh_from_db()
    assert (processed.status, processed.attempts, processed.outcome) == ("failed", 1, "")
    # The row is read once (locked) and written once.
    event_statements = [query["sql"].split()[0] for query in queries if "webhooks_webhookevent" in query["sql"]]
    assert event_statements == ["SELECT", "UPDATE"]


def _stored(message_id: str, stock: int, *, received_at) -> WebhookEvent:
    params = {SAMPLE_VID: [{"vid": SAMPLE_VID, "countryCode": "CN", "storageNum": stock}]}
    return WebhookEvent.objects.create(
        message_id=message_id,
        topic="STOCK",
        message_type="UPDATE",
        raw_body="{}",
        params=params,
        received_at=received_at,
    )


@pytest.mark.django_db
def test_an_older_stock_message_processed_late_does_not_overwrite_a_newer_one():
    variant = VariantFactory(cj_vid=SAMPLE_VID, stock=10)
    now = timezone.now()
    older, newer = (
        _stored("m-older", 5, received_at=now - timedelta(seconds=30)),
        _stored("m-newer", 7, received_at=now),
    )

    webhook_event_process(event_id=newer.pk)
    late = webhook_event_process(event_id=older.pk)

    variant.refresh_from_db()
    assert (variant.stock, variant.stock_updated_at) == (7, now)
    assert late.status == "processed"
    assert late.outcome == "stock of 0 variant(s) set, 1 unchanged, not carried or older than ours"


@pytest.mark.django_db
def test_stock_messages_in_order_apply_the_latest_figure():
    variant = VariantFactory(cj_vid=SAMPLE_VID, stock=10)
    now = timezone.now()
    older, newer = (
        _stored("m-older", 5, received_at=now - timedelta(seconds=30)),
        _stored("m-newer", 7, received_at=now),
    )

    webhook_event_process(event_id=older.pk)
    webhook_event_process(event_id=newer.pk)

    variant.refresh_from_db()
    assert variant.stock == 7


@pytest.mark.django_db
def test_a_timestamp_in_the_stock_message_wins_over_the_receipt_time():
    variant = VariantFactory(cj_vid=SAMPLE_VID, stock=10)
    variant_stock_time = timezone.now() - timedelta(minutes=5)
    Variant.objects.filter(pk=variant.pk).update(stock_updated_at=variant_stock_time)
    params = {SAMPLE_VID: [{"vid": SAMPLE_VID, "storageNum": 3, "updateTime": "2024-09-01 10:00:00"}]}
    event = WebhookEvent.objects.create(message_id="m-dated", topic="STOCK", raw_body="{}", params=params)

    processed = webhook_event_process(event_id=event.pk)

    variant.refresh_from_db()
    assert variant.stock == 10
    assert processed.outcome == "stock of 0 variant(s) set, 1 unchanged, not carried or older than ours"


@pytest.mark.django_db
def test_product_off_sale_and_delete_deactivate_and_staff_names_win():
    product = ProductFactory(cj_pid=SAMPLE_PID, name="Staff name", has_staff_name=True)
    off_sale = WebhookEvent.objects.create(
        message_id="p1", topic="PRODUCT", message_type="UPDATE", raw_body="{}",
        params={"pid": SAMPLE_PID, "productStatus": 2, "productNameEn": "CJ name", "productImage": '["https://img.example.test/a.jpg"]'},
    )  # fmt: skip

    webhook_event_process(event_id=off_sale.pk)

    product.refresh_from_db()
    assert (product.name, product.status, product.images) == (
        "Staff name",
        "inactive",
        ["https://img.example.test/a.jpg"],
    )

    Product.objects.filter(pk=product.pk).update(status="active")
    deleted = WebhookEvent.objects.create(
        message_id="p2", topic="PRODUCT", message_type="DELETE", raw_body="{}", params={"pid": SAMPLE_PID}
    )
    assert webhook_event_process(event_id=deleted.pk).outcome == f"product {SAMPLE_PID} deactivated"
    product.refresh_from_db()
    assert product.status == "inactive"


@pytest.mark.django_db
def test_messages_about_things_we_do_not_carry_are_processed_without_effect():
    event = WebhookEvent.objects.create(message_id="o1", topic="ORDER", raw_body="{}", params={"orderNumber": "NOPE-1"})

    processed = webhook_event_process(event_id=event.pk)

    assert (processed.status, processed.outcome) == ("processed", "no order NOPE-1")
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_mark_ignored_leaves_processed_events_alone():
    failed = WebhookEvent.objects.create(message_id="f1", topic="STOCK", raw_body="{}", status="failed", error="x")
    done = WebhookEvent.objects.create(message_id="d1", topic="STOCK", raw_body="{}", status="processed")

    assert webhook_event_mark_ignored(event_id=failed.pk).status == "ignored"
    assert webhook_event_mark_ignored(event_id=done.pk).status == "processed"
    assert webhook_event_mark_ignored(event_id=999_999) is None


@pytest.mark.django_db
def test_sweep_enqueues_only_old_unprocessed_events_once(settings):
    now = timezone.now()
    old = WebhookEvent.objects.create(
        message_id="old", topic="STOCK", raw_body="{}", received_at=now - timedelta(minutes=5)
    )
    WebhookEvent.objects.create(message_id="new", topic="STOCK", raw_body="{}", received_at=now)
    WebhookEvent.objects.create(message_id="done", topic="STOCK", raw_body="{}", status="processed",
                                received_at=now - timedelta(minutes=5))  # fmt: skip
    stuck = WebhookEvent.objects.create(message_id="stuck", topic="STOCK", raw_body="{}",
                                        received_at=now - timedelta(hours=1))  # fmt: skip

    first = webhook_events_sweep()
    second = webhook_events_sweep()

    assert first == {"found": 2, "enqueued": 2, "already_queued": 0}
    assert second == {"found": 2, "enqueued": 0, "already_queued": 2}
    assert sorted(get_queue(PROCESS_WEBHOOK).job_ids) == sorted([f"webhook-{old.pk}", f"webhook-{stuck.pk}"])


@pytest.mark.django_db
def test_sweep_enqueues_again_a_job_marked_queued_but_gone_from_its_queue():
    """A Redis restored from an older snapshot can hold the job's hash (status queued) without its
    place in the queue: the sweeper must not trust the status alone."""
    event = WebhookEvent.objects.create(message_id="lost", topic="STOCK", raw_body="{}",
                                        received_at=timezone.now() - timedelta(minutes=5))  # fmt: skip
    queue = get_queue(PROCESS_WEBHOOK)
    assert webhook_events_sweep()["enqueued"] == 1
    queue.connection.lrem(queue.key, 0, f"webhook-{event.pk}")  # the hash stays, status "queued"

    assert webhook_events_sweep() == {"found": 1, "enqueued": 1, "already_queued": 0}
    assert queue.job_ids == [f"webhook-{event.pk}"]


@pytest.mark.django_db
def test_sweep_command_fails_cleanly_while_redis_is_down(settings):
    WebhookEvent.objects.create(message_id="old", topic="STOCK", raw_body="{}",
                                received_at=timezone.now() - timedelta(minutes=5))  # fmt: skip

    with queue_redis_refusing(settings), pytest.raises(CommandError, match="Redis is unreachable"):
        call_command("cj_webhooks", "sweep")
    assert WebhookEvent.objects.get().status == "received"


def _variant_message(cost: bytes) -> bytes:
    return (
        b'{"messageId":"m-cost","type":"VARIANT","messageType":"UPDATE","params":{"vid":"'
        + SAMPLE_VID.encode()
        + b'","variantSellPrice":'
        + cost
        + b"}}"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("cost", "read_as"),
    [
        (b"1e999999", "'1e999999'"),
        (b'"1e999999"', "'1e999999'"),
        (b'"NaN"', "'NaN'"),
        (b"0", "'0'"),
        (b"-2.1", "'-2.1'"),
    ],
)
def test_a_variant_cost_that_is_not_a_plausible_amount_fails_at_once_without_retry(client, run_worker, cost, read_as):
    # given
    variant = VariantFactory(cj_vid=SAMPLE_VID, supplier_cost=Decimal("4.00"), price=Decimal("9.90"))
    assert post_signed(client, _variant_message(cost)).status_code == 200

    # when
    counts = run_worker(PROCESS_WEBHOOK)

    # then: one attempt, no RQ retry, the variant as it was
    assert counts == {"finished": 1, "failed": 0}
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts, event.error) == (
        "failed",
        1,
        f"Invalid payload: variant {SAMPLE_VID}: variantSellPrice is {read_as}, expected an amount in [0.01, 1000000)",
    )
    variant.refresh_from_db()
    assert (variant.supplier_cost, variant.price) == (Decimal("4.00"), Decimal("9.90"))


@pytest.mark.django_db
@pytest.mark.parametrize("figure", ["1e999999", -5, 2.5, "NaN"])
def test_a_stock_figure_that_is_not_a_whole_count_fails_the_event_whole(figure):
    first = VariantFactory(cj_vid="V-FIRST", stock=10)
    variant = VariantFactory(cj_vid=SAMPLE_VID, stock=10)
    params = {"V-FIRST": [{"storageNum": 3}], SAMPLE_VID: [{"countryCode": "CN", "storageNum": figure}]}
    event = WebhookEvent.objects.create(
        message_id="m-stock", topic="STOCK", message_type="UPDATE", raw_body="{}", params=params
    )

    processed = webhook_event_process(event_id=event.pk, is_last_attempt=False)

    assert (processed.status, processed.attempts) == ("failed", 1)
    assert processed.error.startswith(f"Invalid payload: STOCK of variant {SAMPLE_VID}: storageNum is ")
    first.refresh_from_db()
    variant.refresh_from_db()
    assert (first.stock, variant.stock) == (10, 10)


@pytest.mark.django_db
def test_stock_summed_over_warehouses_is_capped_to_a_storable_count():
    variant = VariantFactory(cj_vid=SAMPLE_VID, stock=10)
    rows = [{"countryCode": country, "storageNum": 1_000_000_000} for country in ("CN", "US", "DE")]
    event = WebhookEvent.objects.create(
        message_id="m-big", topic="STOCK", message_type="UPDATE", raw_body="{}", params={SAMPLE_VID: rows}
    )

    processed = webhook_event_process(event_id=event.pk, is_last_attempt=False)

    variant.refresh_from_db()
    assert (processed.status, variant.stock) == ("processed", 1_000_000_000)
