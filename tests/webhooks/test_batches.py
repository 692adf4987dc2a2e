"""STOCK events applied in batches: the first job takes the STOCK events waiting behind it, applies
their figures set-based and drops their queued jobs; every event is still stored once, processed
once, and fails on its own."""

import pytest
import redis
from django.conf import settings

from catalog.models import Variant
from config.queues import PROCESS_WEBHOOK, get_queue
from tests.catalog.factories import VariantFactory
from tests.webhooks.conftest import message, post_signed
from webhooks.models import WebhookEvent
from webhooks.services import webhook_event_replay


def _stock(vid: str, units: object) -> dict:
    return {vid: [{"vid": vid, "areaId": "1", "areaEn": "China Warehouse", "countryCode": "CN", "storageNum": units}]}


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_stock_pushes_is_applied_by_one_job_and_each_event_fails_alone(client, run_worker):
    # given: 5 variants, 3 pushes for each (the last figure must win), and one malformed push
    variants = [VariantFactory(stock=1, cj_stock=1) for _ in range(5)]
    for round_ in range(3):
        for n, variant in enumerate(variants):
            payload = message("STOCK", _stock(variant.cj_vid, 10 * round_ + n), message_id=f"m-{round_}-{n}")
            assert post_signed(client, payload).status_code == 200
    assert post_signed(client, message("STOCK", _stock("V-BAD", 2.5), message_id="m-bad")).status_code == 200
    queue = get_queue(PROCESS_WEBHOOK)
    assert queue.count == 16

    # when: one burst worker
    counts = run_worker(PROCESS_WEBHOOK)

    # then: one job did the work; the other 15 jobs were dropped from the queue with their hashes
    assert counts == {"finished": 1, "failed": 0}
    assert queue.count == 0
    connection = redis.Redis.from_url(settings.REDIS_URL)
    assert sorted(key.decode() for key in connection.keys("rq:job:webhook-*")) == [
        f"rq:job:webhook-{WebhookEvent.objects.order_by('id').first().pk}"
    ]
    assert dict(Variant.objects.filter(pk__in=[v.pk for v in variants]).values_list("cj_vid", "stock")) == {
        variant.cj_vid: 20 + n for n, variant in enumerate(variants)
    }
    events = {
        event.message_id: (event.status, event.attempts, event.outcome, event.error)
        for event in WebhookEvent.objects.all()
    }
    set_once = "stock of 1 variant(s) set, 0 unchanged, not carried or older than ours"
    beaten = "stock of 0 variant(s) set, 1 unchanged, not carried or older than ours"
    expected = {f"m-{r}-{n}": ("processed", 1, set_once if r == 2 else beaten, "") for r in range(3) for n in range(5)}
    expected["m-bad"] = (
        "failed",
        1,
        "",
        ("Invalid payload: STOCK of variant V-BAD: storageNum is '2.5', expected a whole number in [0, 1000000000]"),
    )
    assert events == expected
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_replayed_stock_event_is_applied_again_alone(client, run_worker):
    variant = VariantFactory(stock=1, cj_stock=1)
    post_signed(client, message("STOCK", _stock(variant.cj_vid, 4), message_id="m-1"))
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 1, "failed": 0}
    event = WebhookEvent.objects.get()
    Variant.objects.filter(pk=variant.pk).update(stock=0, cj_stock=0, stock_updated_at=None)

    webhook_event_replay(event_id=event.pk)
    # the same job id again: the finished registry holds it once, so its count does not grow
    assert run_worker(PROCESS_WEBHOOK) == {"finished": 0, "failed": 0}
    assert get_queue(PROCESS_WEBHOOK).count == 0

    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 2)
    assert Variant.objects.filter(pk=variant.pk).values_list("stock", "cj_stock").get() == (4, 4)
