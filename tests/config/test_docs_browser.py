"""The API docs in a real browser with no network: Swagger UI (`/api/docs/`) and ReDoc
(`/api/redoc/`) render the operations from our own static files, within their CSP.

Playwright drives Debian's headless Chromium against `live_server`; every request for another
host than the live server is recorded and refused, as it would fail offline.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS

OPERATION_SUMMARY = "Submit a lead (public storefront form)"
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Chromium is not installed: run `apt-get install -y chromium` (Debian) to run the browser test",
    ),
]


@dataclass
class OfflinePage:
    """A page whose requests leave only for the live server; what else it asked for, and the
    browser's complaints (CSP violations, script errors), are kept."""

    page: Any
    refused: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def offline_page(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[OfflinePage]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extras: make install")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    live_host = urlsplit(live_server.url).netloc
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=live_server.url)
        context.set_default_timeout(15_000)
        offline = OfflinePage(page=context.new_page())

        def only_the_live_server(route: Any) -> None:
            url = route.request.url
            if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == live_host:
                route.continue_()
            else:
                offline.refused.append(url)
                route.abort("internetdisconnected")

        context.route("**/*", only_the_live_server)

        def keep_errors(message: Any) -> None:
            if message.type == "error":
                offline.errors.append(message.text)

        offline.page.on("console", keep_errors)
        offline.page.on("pageerror", lambda error: offline.errors.append(str(error)))
        try:
            yield offline
        finally:
            context.close()
            browser.close()


def test_swagger_ui_renders_the_operations_offline(offline_page: OfflinePage) -> None:
    page = offline_page.page

    response = page.goto("/api/docs/")
    summary = page.get_by_text(OPERATION_SUMMARY, exact=True)
    summary.wait_for(state="visible")

    assert response.status == 200
    assert summary.is_visible()
    assert page.locator(".opblock-summary-path", has_text="/api/orders").first.is_visible()
    assert (offline_page.refused, offline_page.errors) == ([], [])


def test_redoc_renders_the_operations_offline(offline_page: OfflinePage) -> None:
    page = offline_page.page

    response = page.goto("/api/redoc/")
    # ReDoc draws an operation once it is reached: open its tag, then the operation, in the menu.
    page.get_by_role("menuitem", name="crm", exact=True).click()
    page.get_by_role("menuitem", name=OPERATION_SUMMARY, exact=True).click()
    heading = page.locator("h2", has_text=OPERATION_SUMMARY)
    heading.wait_for(state="visible")

    assert response.status == 200
    assert heading.is_visible()
    assert offline_page.refused == []
    # ReDoc's menu footer asks for Redocly's logo from their CDN, which the policy refuses before
    # any request leaves (the footer then shows its text alone); nothing else may complain.
    assert [error for error in offline_page.errors if REDOCLY_LOGO not in error] == []
