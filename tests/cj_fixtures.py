"""The `cj_simulator` fixture: the real CJ simulator over HTTP, and the client pointed at it.

The simulator runs once per test session in a subprocess (`manage.py cj_simulator`) on a free
loopback port, so RQ work horses and other processes reach it too. Each test that asks for the
fixture gets a fresh simulator state (`reset`: 20 products, 50 QPS unless changed), and the CJ
settings (`CJ_API_BASE`, `CJ_API_KEY`, `CJ_OPEN_ID`, `CJ_QPS`, fast retries) point at it.
Token store, limiter and budget live in the test Redis database, which is flushed before every test.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PRODUCTS = 20
DEFAULT_QPS = 50.0


class SimulatorHandle:
    """Helpers for the simulator's control endpoints (/_sim/)."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.base_url = f"{self.root}/api2.0/v1/"
        self.api_key = "SIMULATOR-DEMO-KEY"
        self.open_id = "1234567890"
        self._session = requests.Session()

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._session.request(method, f"{self.root}/_sim/{path}", json=body or {}, timeout=10)
        if response.status_code != 200:
            raise AssertionError(f"/_sim/{path} answered {response.status_code}: {response.text}")
        return response.json()

    def reset(self, *, products: int = DEFAULT_PRODUCTS, qps: float = DEFAULT_QPS, **config: Any) -> dict[str, Any]:
        """Fresh state. Extra keys: seed, login_interval, daily_limit, daily_points, throttle_http_429,
        insecure_webhooks, webhook_retry_delay, auto_advance_seconds, balance."""
        config.setdefault("insecure_webhooks", True)
        config.setdefault("webhook_retry_delay", 0.5)
        return self._control("POST", "reset", {"products": products, "qps": qps, **config})

    def info(self) -> dict[str, Any]:
        return self._control("GET", "info")

    def stats(self) -> dict[str, Any]:
        return self._control("GET", "stats")

    def calls(self, endpoint: str) -> int:
        """How many times the simulator received `endpoint` (e.g. "product/query")."""
        return self.stats()["calls"].get(endpoint, 0)

    def set_points(self, **values: Any) -> dict[str, Any]:
        """Change the day's points without a reset: daily_points, order_volume_usd, used."""
        return self._control("POST", "points", values)

    def set_stock(self, vid: str, stock: int, *, country_code: str = "CN") -> dict[str, Any]:
        return self._control("POST", "stock", {"vid": vid, "stock": stock, "country_code": country_code})

    def set_price(self, vid: str, price: str) -> dict[str, Any]:
        return self._control("POST", "price", {"vid": vid, "price": str(price)})

    def add_product(self, *, name: str | None = None, description: str | None = None) -> dict[str, Any]:
        body = {"name": name, "description": description}
        return self._control("POST", "products", {key: value for key, value in body.items() if value is not None})

    def remove_product(self, pid: str, *, delete: bool = False) -> dict[str, Any]:
        return self._control("POST", "products/remove", {"pid": pid, "delete": delete})

    def remove_variant(self, vid: str) -> dict[str, Any]:
        return self._control("POST", "variants/remove", {"vid": vid})

    def orders(self) -> list[dict[str, Any]]:
        return self._control("GET", "orders")["orders"]

    def advance_order(self, order_id: str, status: str | None = None) -> dict[str, Any]:
        return self._control("POST", "orders/advance", {"order_id": order_id, "status": status})

    def balance(self) -> dict[str, Any]:
        """{"amount": "1000.00", "restricted": false}: the account's CJ balance."""
        return self._control("GET", "balance")

    def set_balance(self, amount: str | None = None, *, restricted: bool | None = None) -> dict[str, Any]:
        """Set the CJ balance (USD) and/or restrict balance payment (CJ then answers 1604001)."""
        body: dict[str, Any] = {}
        if amount is not None:
            body["amount"] = amount
        if restricted is not None:
            body["restricted"] = restricted
        return self._control("POST", "balance", body)

    def fault(
        self,
        kind: str,
        *,
        rate: float = 1.0,
        endpoint: str = "",
        count: int | None = None,
        latency_ms: int = 1000,
        status: int = 500,
    ) -> None:
        """Inject a fault: latency, timeout, http_5xx, throttle, expired_token or busy."""
        self._control(
            "POST",
            "faults",
            {
                "kind": kind,
                "rate": rate,
                "endpoint": endpoint,
                "count": count,
                "latency_ms": latency_ms,
                "status": status,
            },
        )

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._control("POST", "clock", {"advance_seconds": seconds})

    def expire_tokens(self) -> int:
        return self._control("POST", "tokens/expire")["expired"]

    def push_webhook(self, message_type: str, params: dict[str, Any], *, change: str = "UPDATE") -> str:
        return self._control("POST", "webhooks/push", {"type": message_type, "messageType": change, "params": params})[
            "messageId"
        ]

    def webhooks(self) -> dict[str, Any]:
        return self._control("GET", "webhooks")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def cj_simulator_process() -> Iterator[SimulatorHandle]:
    """The simulator subprocess for the whole session."""
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "cj_simulator", "--port", str(port), "--products", str(DEFAULT_PRODUCTS)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    handle = SimulatorHandle(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"CJ simulator exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            handle.info()
            break
        except (requests.RequestException, AssertionError):
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("CJ simulator did not start within 30 s")
    yield handle
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def cj_simulator(cj_simulator_process: SimulatorHandle, settings: Any, db: None) -> SimulatorHandle:
    """A freshly reset simulator with the CJ settings pointing at it (with the database: the
    client keeps CJ's token pair in PostgreSQL)."""
    cj_simulator_process.reset()
    settings.CJ_API_BASE = cj_simulator_process.base_url
    settings.CJ_API_KEY = cj_simulator_process.api_key
    settings.CJ_OPEN_ID = cj_simulator_process.open_id
    settings.CJ_QPS = DEFAULT_QPS
    settings.CJ_RETRY_BACKOFF = 0.01
    settings.CJ_THROTTLE_BACKOFF = 0.05
    settings.CJ_READ_TIMEOUT = 5.0
    return cj_simulator_process
