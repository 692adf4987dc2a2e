"""A staff member's day in the back office, in headless Chromium at 1366x900 (Playwright against
`live_server`): the dashboard, leads (list, open, convert), orders (list, failed filter, open,
retry, cancel), the failed jobs, sync runs (resume) and webhook events (replay).

Each page is saved to `test-output/walk-NN-<page>.png`, and each is checked as a person would:
no dashboard label hidden by its bar, the list's key columns inside the viewport without
horizontal scrolling, the right buttons present and absent, the messages truthful.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.models import SyncRun, Variant
from config.queues import CREATE_ORDER
from crm.models import Lead
from orders.models import Order
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.catalog.factories import VariantFactory
from tests.crm.factories import LeadFactory
from tests.orders.conftest import local_copies_of_sample_product, place_order
from tests.orders.factories import OrderFactory, OrderItemFactory
from webhooks.models import WebhookEvent

OUTPUT_DIR = Path(django_settings.BASE_DIR) / "test-output"
VIEWPORT = {"width": 1366, "height": 900}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Chromium is not installed: run `apt-get install -y chromium` (Debian) to run the browser test",
    ),
]

# For each bar-drawn row of the dashboard: is its label's text what the browser finds on top at
# the label's start and middle (not the bar)?
LABELS_HIDDEN_BY_BARS = """
() => {
  const hidden = [];
  for (const row of document.querySelectorAll('.crm-row')) {
    const bar = row.querySelector('.crm-row__bar');
    const label = row.querySelector('.crm-row__label');
    if (!bar || !label || bar.getBoundingClientRect().width === 0) continue;
    label.scrollIntoView({block: 'center'});
    const box = label.getBoundingClientRect();
    for (const x of [box.left + 4, box.left + box.width / 2]) {
      const top = document.elementFromPoint(x, box.top + box.height / 2);
      if (!label.contains(top)) hidden.push(label.innerText.trim());
    }
  }
  return hidden;
}
"""

# Where each named list column ends up: inside the results box and the viewport, or not.
COLUMNS_OUT_OF_VIEW = """
(names) => {
  const table = document.querySelector('#result_list');
  const results = table.closest('.results') || table.parentElement;
  const right = Math.min(results.getBoundingClientRect().right, document.documentElement.clientWidth);
  const out = [];
  for (const name of names) {
    const th = table.querySelector('th.column-' + name);
    if (!th) { out.push(name + ': missing'); continue; }
    const box = th.getBoundingClientRect();
    if (box.right > right + 1 || box.left < 0) out.push(name + ': ends at ' + Math.round(box.right) + ' of ' + right);
  }
  if (results.scrollWidth > results.clientWidth + 1) out.push('the list scrolls sideways');
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth + 1) out.push('the page scrolls sideways');
  return out;
}
"""


@pytest.fixture
def page(live_server, settings, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extras: make install")
    settings.SESSION_COOKIE_SECURE = False  # the live server speaks plain HTTP
    settings.CSRF_COOKIE_SECURE = False
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API keeps a loop here
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


class Walk:
    """The page plus the checks a person makes on it, and a numbered screenshot per page."""

    def __init__(self, page: Any) -> None:
        self.page, self.shots = page, 0
        self.out_of_view: dict[str, list[str]] = {}  # per page: columns a person would have to scroll to

    def shot(self, name: str) -> None:
        OUTPUT_DIR.mkdir(exist_ok=True)
        self.shots += 1
        path = OUTPUT_DIR / f"walk-{self.shots:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000

    def columns_in_view(self, *names: str) -> None:
        """Record the named columns that are not in view (asserted empty at the end of the walk)."""
        missing = self.page.evaluate(COLUMNS_OUT_OF_VIEW, list(names))
        if missing:
            self.out_of_view[self.page.url] = missing

    def messages(self) -> list[tuple[str, str]]:
        found = []
        for item in self.page.locator("ul.messagelist li").all():
            level = next(c for c in ("success", "warning", "error", "info") if c in (item.get_attribute("class") or ""))
            found.append((level, item.inner_text().strip()))
        return found

    def buttons(self) -> list[str]:
        return [text.strip() for text in self.page.locator(".object-tools button.object-action").all_text_contents()]

    def has_delete(self) -> bool:
        return self.page.locator("a.deletelink").count() > 0

    def select_and_run(self, row_text: str, action: str) -> None:
        self.page.locator("#result_list tr", has_text=row_text).locator("input.action-select").check()
        self.page.select_option("select[name=action]", action)
        self.page.click("button[name=index]")
        self.page.wait_for_selector("ul.messagelist")


@pytest.fixture
def day(cj_simulator: Any, run_worker: Any, settings: Any) -> dict[str, Any]:
    """What the back office holds on the morning of the walk (set up before the browser starts:
    the burst worker forks, which is best done before Playwright's driver runs)."""
    # leads, one ready to convert
    LeadFactory.create_batch(3, status=Lead.Status.NEW)
    LeadFactory.create_batch(2, status=Lead.Status.CONTACTED)
    qualified = LeadFactory(name="Quinn Qualified", status=Lead.Status.QUALIFIED, company="Blue Mugs Ltd")

    # orders: the big rows of the dashboard (placed, shipped, delivered, failed) and the day's cases
    for status, count in ((Order.Status.PLACED, 9), (Order.Status.SHIPPED, 7), (Order.Status.DELIVERED, 12)):
        for n in range(count):
            OrderFactory(
                status=status,
                cj_order_id=f"24120215034500{status[:2].upper()}{n:04d}",
                tracking_number="" if status == Order.Status.PLACED else f"CJPKL71601{n:04d}YQ",
            )
    retryable = OrderFactory(
        items=[],
        status=Order.Status.FAILED,
        failure_reason=Order.FailureReason.LOGISTIC_UNAVAILABLE,
        failure_message="Logistics CJPacket Ordinary does not ship to this address; choose another line.",
    )
    OrderItemFactory(order=retryable, variant=VariantFactory(stock=10), quantity=1)
    gone = OrderFactory(
        items=[],
        status=Order.Status.FAILED,
        failure_reason=Order.FailureReason.VARIANT_UNAVAILABLE,
        failure_message="The variant is no longer sold by the supplier.",
    )
    OrderItemFactory(order=gone, variant=VariantFactory(sku="MUG-GONE", status=Variant.Status.INACTIVE), quantity=1)
    to_cancel = OrderFactory(email="changed.mind@example.com")
    OrderItemFactory(order=to_cancel, variant=VariantFactory(stock=3), quantity=1)

    # an order CJ answers with 5xx: its job dead-letters after its retry, its timeline says why
    settings.RQ_RETRY_INTERVALS = [0]
    stuck = place_order(local_copies_of_sample_product(cj_simulator)[0], email="stuck@example.com")
    cj_simulator.fault("http_5xx", endpoint="shopping/order/createOrderV2", status=503)
    assert run_worker(CREATE_ORDER) == {"finished": 0, "failed": 1}
    cj_simulator.clear_faults()

    # sync runs: a full sync, and a stock refresh stopped by Ctrl-C to resume
    now = timezone.now()
    SyncRun.objects.create(
        kind=SyncRun.Kind.FULL, status=SyncRun.Status.SUCCEEDED, started_at=now - timedelta(hours=2),
        finished_at=now - timedelta(hours=2) + timedelta(seconds=53), pages_done=5, total_pages=5,
        created_count=480, updated_count=12, unchanged_count=8, failed_count=1, deactivated_count=3, cj_calls=506,
    )  # fmt: skip
    stopped = SyncRun.objects.create(
        kind=SyncRun.Kind.STOCK, status=SyncRun.Status.FAILED, trigger=SyncRun.Trigger.COMMAND,
        started_at=now - timedelta(minutes=30), finished_at=now - timedelta(minutes=29),
        pages_done=2, total_pages=10, updated_count=85, unchanged_count=15, cj_calls=100,
        checkpoint={"variant_ids": None, "product_id": 0},
        errors=[{"pid": None, "error": "Interrupted", "message": "Stopped before it finished."}],
    )  # fmt: skip

    # webhooks of the last day: mostly processed, one failed to replay
    for n in range(40):
        WebhookEvent.objects.create(
            message_id=f"7f3c9a1e-5b2d-4c8e-9a01-{n:012d}", topic="STOCK", message_type="UPDATE", raw_body="{}",
            status=WebhookEvent.Status.PROCESSED, attempts=1, processed_at=timezone.now(),
        )  # fmt: skip
    failed_event = WebhookEvent.objects.create(
        message_id="7f3c9a1e-5b2d-4c8e-9a01-failed000001", topic="ORDER", message_type="UPDATE", raw_body="{}",
        status=WebhookEvent.Status.FAILED, attempts=4,
        error="OrderNotFound: no order DS-UNKNOWN0001 for this ORDER message; CJ may be ahead of our records",
    )  # fmt: skip
    return {
        "qualified": qualified,
        "retryable": retryable,
        "gone": gone,
        "to_cancel": to_cancel,
        "stuck": stuck,
        "placed": Order.objects.filter(status=Order.Status.PLACED).first(),
        "stopped": stopped,
        "failed_event": failed_event,
    }


def test_a_staff_members_day_at_1366_px(day, page):
    data = day
    user = get_user_model().objects.create_superuser(username="olga", email="", password="pw-walk-1")
    assert user.is_superuser
    walk = Walk(page)

    # log in: the dashboard, no label under a bar
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "olga")
    page.fill("#id_password", "pw-walk-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#panel-orders-by-status")
    delivered = page.locator("#panel-orders-by-status .crm-row", has_text="Delivered").locator(".crm-row__bar")
    assert delivered.evaluate("bar => bar.getBoundingClientRect().width") > 60  # a big bar is drawn
    assert page.evaluate(LABELS_HIDDEN_BY_BARS) == []
    walk.shot("dashboard")

    # leads: the list with its dates, open the qualified lead, convert it
    page.goto("/admin/crm/lead/")
    walk.columns_in_view("name", "email", "status_badge", "owner", "source", "created", "last_contacted")
    walk.shot("leads")
    page.locator("#result_list a", has_text="Quinn Qualified").first.click()
    page.wait_for_url(f"**/admin/crm/lead/{data['qualified'].pk}/change/**")
    page.wait_for_selector("a.crm-convert-link")
    walk.shot("lead")
    page.click("a.crm-convert-link")
    page.click("input[value='Yes, convert']")
    page.wait_for_selector("ul.messagelist")
    walk.shot("lead-converted")
    data["qualified"].refresh_from_db()
    assert data["qualified"].status == Lead.Status.CONVERTED and data["qualified"].customer_id

    # orders: the list, then the failed filter, with total, CJ id, tracking and failure reason in view
    order_columns = ("number", "created", "status_badge", "total", "cj_order_id", "tracking_number", "failure_reason")
    page.goto("/admin/orders/order/")
    walk.columns_in_view(*order_columns)
    assert (
        page.locator("#result_list .order-badge--delivered").first.evaluate(
            "badge => getComputedStyle(badge).backgroundColor"
        )
        == "rgb(5, 150, 105)"
    )
    walk.shot("orders")
    page.locator("#changelist-filter").get_by_role("link", name="Failed", exact=True).first.click()
    page.wait_for_url("**status__exact=failed**")
    walk.columns_in_view(*order_columns)
    assert page.locator("#result_list td.field-failure_reason").all_inner_texts() == [
        "Variant unavailable",
        "Logistic unavailable",
    ]
    walk.shot("orders-failed")

    # the order whose variant is gone: Retry says why it cannot, nothing is queued
    page.locator("#result_list a", has_text=data["gone"].number).click()
    page.wait_for_url(f"**/admin/orders/order/{data['gone'].pk}/change/**")
    assert (walk.buttons(), walk.has_delete()) == (["Retry forwarding to CJ", "Cancel order"], False)
    walk.shot("order-failed")
    page.click("#object-action-retry")
    page.wait_for_selector("ul.messagelist")
    assert walk.messages() == [
        (
            "warning",
            f"Order {data['gone'].number} cannot be retried: variant MUG-GONE is no longer sold (inactive in the "
            "catalog), so CJ would refuse it again; cancel the order instead.",
        )
    ]
    walk.shot("order-retry-refused")

    # the retryable one: queued again, and now pending (Cancel stays, Retry goes)
    page.goto(f"/admin/orders/order/{data['retryable'].pk}/change/")
    page.click("#object-action-retry")
    page.wait_for_selector("ul.messagelist")
    assert walk.messages() == [
        (
            "success",
            f"Order {data['retryable'].number} is queued for forwarding to CJ again; its stock is reserved.",
        )
    ]
    assert (walk.buttons(), walk.has_delete()) == (["Cancel order"], False)
    walk.shot("order-retried")

    # a buyer changed their mind: cancel; afterwards no button, and only now Delete
    page.goto(f"/admin/orders/order/{data['to_cancel'].pk}/change/")
    page.click("#object-action-cancel")
    page.wait_for_selector("ul.messagelist")
    assert walk.messages() == [
        ("success", f"Order {data['to_cancel'].number} is cancelled; its reserved stock is released.")
    ]
    assert (walk.buttons(), walk.has_delete()) == ([], True)
    walk.shot("order-cancelled")

    # an order at CJ: neither Retry, Cancel nor Delete
    page.goto(f"/admin/orders/order/{data['placed'].pk}/change/")
    assert (walk.buttons(), walk.has_delete()) == ([], False)

    # the order CJ answered with 5xx: still forwarding, each retry on its timeline
    page.goto(f"/admin/orders/order/{data['stuck'].pk}/change/")
    timeline = page.locator("#events-group").inner_text()
    assert "CJ did not take the order (attempt 1): HTTP 503" in timeline
    assert "attempt 2" in timeline and "No retry left" in timeline
    walk.shot("order-cj-retries")

    # failed jobs: the dead-lettered forwarding job
    page.goto("/admin/django-rq/")
    page.locator("a", has_text="create-order").first.wait_for()
    walk.shot("job-queues")
    page.goto(page.locator("a[href*='/failed/']").first.get_attribute("href"))
    assert "order_forward_to_cj_job" in page.locator("#content").inner_text()
    walk.shot("failed-jobs")

    # sync runs: every count in view; resume the stopped stock refresh
    page.goto("/admin/catalog/syncrun/")
    walk.columns_in_view("id", "kind", "status_badge", "started", "duration", "pages", "created", "updated",
                         "unchanged", "failed", "deactivated", "calls")  # fmt: skip
    walk.shot("sync-runs")
    walk.select_and_run("Stock refresh", "resume")
    (message,) = walk.messages()
    assert message[0] == "success"
    assert message[1].startswith(f"Stock refresh #{data['stopped'].pk} queued to resume after page 2 on update-stock")
    walk.shot("sync-run-resumed")

    # webhook events: times and error in view; replay the failed one
    page.goto("/admin/webhooks/webhookevent/?status__exact=failed")
    walk.columns_in_view("message_id", "topic", "status_badge", "attempts", "received", "processed", "short_error")
    walk.shot("webhooks-failed")
    walk.select_and_run("failed000001", "replay")
    assert walk.messages() == [("success", "1 event(s) queued for processing again.")]
    data["failed_event"].refresh_from_db()
    assert data["failed_event"].status == WebhookEvent.Status.RECEIVED
    walk.shot("webhook-replayed")

    # every list showed its key columns without sideways scrolling
    assert walk.out_of_view == {}
