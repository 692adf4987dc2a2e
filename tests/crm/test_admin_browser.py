"""A real browser in the admin: Playwright drives Debian's headless Chromium against `live_server`.

Logs in, creates a lead, changes its status, logs a contact, checks the lead list filter, and
saves a screenshot of the dashboard to `test-output/admin-dashboard.png`.
"""

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from crm.models import Contact, Lead, LeadStatusChange
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.crm.factories import LeadFactory, SalesUserFactory

OUTPUT_DIR = Path(django_settings.BASE_DIR) / "test-output"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Chromium is not installed: run `apt-get install -y chromium` (Debian) to run the browser test",
    ),
]


@pytest.fixture
def browser_page(live_server, settings, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extras: make install")
    # The live server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # Playwright's sync API keeps an event loop in this thread; the ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=live_server.url)
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_staff_work_a_lead_in_the_admin(browser_page):
    page = browser_page
    user = SalesUserFactory(username="sam")
    user.set_password("pw-browser-1")
    user.save()
    LeadFactory(name="Existing Contacted", status=Lead.Status.CONTACTED)
    LeadFactory.create_batch(2, status=Lead.Status.NEW)

    # log in
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "sam")
    page.fill("#id_password", "pw-browser-1")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    assert page.locator("#panel-leads-glance").is_visible()

    # create a lead
    page.goto("/admin/crm/lead/add/")
    page.fill("#id_name", "Grace Hopper")
    page.fill("#id_email", "  Grace@Example.com ")
    page.fill("#id_phone", "+1 202 555 0100")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    lead = Lead.objects.get(name="Grace Hopper")
    assert (lead.email, lead.status, lead.source) == ("grace@example.com", "new", "manual")

    # change its status and log a contact in one save
    assert page.locator("#id_status option").all_inner_texts() == ["New", "Contacted", "Lost"]
    page.select_option("#id_status", "contacted")
    page.select_option("#id_contacts-0-channel", "phone")
    page.select_option("#id_contacts-0-direction", "outbound")
    page.fill("#id_contacts-0-summary", "Called: interested in the blue mugs")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert "Called: interested in the blue mugs" in page.locator("#contacts-group").inner_text()
    assert "Contacted" in page.locator("#status_changes-group").inner_text()
    lead.refresh_from_db()
    assert lead.status == "contacted"
    assert list(LeadStatusChange.objects.filter(lead=lead).values_list("from_status", "to_status")) == [
        ("new", "contacted")
    ]
    assert list(Contact.objects.filter(lead=lead).values_list("channel", "summary")) == [
        ("phone", "Called: interested in the blue mugs")
    ]

    # the list's status filter shows the contacted leads only
    page.goto("/admin/crm/lead/")
    page.locator("#changelist-filter").get_by_role("link", name="Contacted", exact=True).click()
    page.wait_for_url("**status__exact=contacted**")
    names = page.locator("#result_list tbody .field-name a").all_inner_texts()
    assert sorted(names) == ["Existing Contacted", "Grace Hopper"]
    assert page.locator("#result_list .crm-badge--contacted").count() == 2
    assert page.locator("#result_list .crm-badge--new").count() == 0

    # the dashboard, for the record
    page.goto("/admin/")
    page.wait_for_selector("#panel-leads-by-status")
    assert page.locator("#panel-leads-by-status a[href='/admin/crm/lead/?status__exact=contacted']").inner_text()
    OUTPUT_DIR.mkdir(exist_ok=True)
    screenshot = OUTPUT_DIR / "admin-dashboard.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
