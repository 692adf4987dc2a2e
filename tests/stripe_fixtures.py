"""The `localstripe` fixture: the Stripe stand-in over real HTTP, and the Stripe settings pointed at it.

localstripe (`manage.py localstripe`, our thin layer in integrations/stripe_standin) runs once per
test session in a subprocess on a free loopback port, so RQ work horses and other processes reach
it too. Every test gets an empty localstripe and the Stripe settings pointed at it (autouse:
intake creates a PaymentIntent for every order) with a webhook secret of the session;
`deliver_to(url)` registers a receiver for localstripe's signed webhooks, and `sign(payload)` signs
a body as Stripe does.
"""

import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from webhooks.stripe_dispatch import STRIPE_EVENT_TYPES

BASE_DIR = Path(__file__).resolve().parent.parent
WEBHOOK_ID = "shop"


class LocalStripeHandle:
    def __init__(self, root: str, webhook_secret: str) -> None:
        self.root = root.rstrip("/")
        self.webhook_secret = webhook_secret
        self._session = requests.Session()

    def deliver_to(self, url: str | None, *, events: tuple[str, ...] = STRIPE_EVENT_TYPES) -> None:
        """Have localstripe push its signed events to `url` (None: to nobody)."""
        body = {
            "url": url or "http://127.0.0.1:9/",
            "secret": self.webhook_secret,
            "events": list(events) if url else [],
        }
        response = self._session.post(f"{self.root}/_config/webhooks/{WEBHOOK_ID}", json=body, timeout=10)
        assert response.status_code == 200, response.text

    def flush(self) -> None:
        """Forget every object (PaymentIntents, refunds, ...): a fresh Stripe account."""
        assert self._session.delete(f"{self.root}/_config/data", timeout=10).status_code == 200

    def sign(self, payload: bytes, *, timestamp: int | None = None, secret: str | None = None) -> str:
        """A `Stripe-Signature` header for `payload`, as Stripe computes it."""
        moment = int(time.time()) if timestamp is None else timestamp
        key = (secret or self.webhook_secret).encode()
        return f"t={moment},v1={hmac.new(key, b'%d.%s' % (moment, payload), hashlib.sha256).hexdigest()}"

    def event(self, event_type: str, payment_intent: dict[str, Any], *, event_id: str | None = None) -> bytes:
        """A Stripe event body about `payment_intent` (what Stripe would post)."""
        return json.dumps(
            {
                "id": event_id or f"evt_{secrets.token_hex(8)}",
                "object": "event",
                "type": event_type,
                "created": int(time.time()),
                "data": {"object": payment_intent},
            }
        ).encode()

    def payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        response = self._session.get(
            f"{self.root}/v1/payment_intents/{payment_intent_id}", headers={"Authorization": "Bearer sk_localstripe"}
        )
        assert response.status_code == 200, response.text
        return response.json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe_process() -> Iterator[LocalStripeHandle]:
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "localstripe", "--port", str(port)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    handle = LocalStripeHandle(f"http://127.0.0.1:{port}", webhook_secret=f"whsec_{secrets.token_hex(16)}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("localstripe exited")
        try:
            requests.get(f"{handle.root}/js.stripe.com/v3/", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("localstripe did not start within 30 s")
    yield handle
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(autouse=True)
def localstripe(request: pytest.FixtureRequest, settings: Any) -> Iterator[LocalStripeHandle | None]:
    """Stripe settings pointed at the session's localstripe, its webhooks delivered to nobody.
    Tests marked `no_localstripe` (and the drills, whose stack starts its own) skip it."""
    if request.node.get_closest_marker("no_localstripe") or request.node.path.name == "test_drills.py":
        yield None
        return
    handle: LocalStripeHandle = request.getfixturevalue("localstripe_process")
    settings.STRIPE_API_BASE = handle.root
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = handle.webhook_secret
    settings.PAYMENTS_PROVIDER = "stripe"
    handle.flush()
    handle.deliver_to(None)
    yield handle
