"""The simulator's own CJ behaviour over raw HTTP: envelope, auth rules, limits, webhooks."""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from integrations.cj.client import get_client
from integrations.cj.simulator.api.routes import ROUTES

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "cj"


def _login(sim) -> str:
    answer = requests.post(sim.base_url + "authentication/getAccessToken", json={"apiKey": sim.api_key}, timeout=5)
    return answer.json()["data"]["accessToken"]


def test_envelope_and_request_errors(cj_simulator):
    token = _login(cj_simulator)
    headers = {"CJ-Access-Token": token}
    base = cj_simulator.base_url

    ok = requests.get(base + "product/getCategory", headers=headers, timeout=5).json()
    wrong_method = requests.post(base + "product/getCategory", headers=headers, json={}, timeout=5).json()
    json_headers = {**headers, "Content-Type": "application/json"}
    bad_json = requests.post(base + "logistic/freightCalculate", headers=json_headers, data=b"{", timeout=5).json()
    missing = requests.get(base + "product/getCategory", timeout=5).json()
    invalid = requests.get(base + "product/getCategory", headers={"CJ-Access-Token": "nope"}, timeout=5).json()
    unknown = requests.get(base + "product/nothing", headers=headers, timeout=5)
    param = requests.get(base + "product/listV2", params={"size": 101}, headers=headers, timeout=5).json()
    alternative = requests.get(base + "product/globalWarehouseList", headers=headers, timeout=5).json()

    assert (ok["code"], ok["result"], ok["message"]) == (200, True, "Success") and len(ok["requestId"]) == 36
    assert [e["code"] for e in (wrong_method, bad_json, missing, invalid, param)] == [
        16900202,
        16900205,
        1600002,
        1600001,
        1600300,
    ]
    assert (unknown.status_code, unknown.json()["code"]) == (404, 1600101)
    assert (alternative["success"], alternative["code"]) == (True, 0)


def test_get_access_token_once_per_5_minutes_and_bad_key(cj_simulator):
    url = cj_simulator.base_url + "authentication/getAccessToken"

    bad = requests.post(url, json={"apiKey": "wrong"}, timeout=5).json()
    first = requests.post(url, json={"apiKey": cj_simulator.api_key}, timeout=5).json()
    second = requests.post(url, json={"apiKey": cj_simulator.api_key}, timeout=5).json()
    cj_simulator.advance_clock(301)
    third = requests.post(url, json={"apiKey": cj_simulator.api_key}, timeout=5).json()

    assert [bad["code"], first["code"], second["code"], third["code"]] == [1600005, 200, 1600200, 200]
    assert first["data"]["openId"] == 1234567890
    assert first["data"]["accessTokenExpiryDate"].endswith("+08:00")


def test_refresh_is_limited_to_5_per_minute(cj_simulator):
    url = cj_simulator.base_url + "authentication/refreshAccessToken"
    refresh = requests.post(
        cj_simulator.base_url + "authentication/getAccessToken", json={"apiKey": cj_simulator.api_key}, timeout=5
    ).json()["data"]["refreshToken"]
    codes = []
    for _ in range(6):
        answer = requests.post(url, json={"refreshToken": refresh}, timeout=5).json()
        codes.append(answer["code"])
        refresh = (answer["data"] or {}).get("refreshToken", refresh)
    invalid = requests.post(url, json={"refreshToken": "0" * 32}, timeout=5).json()

    assert codes == [200, 200, 200, 200, 200, 1600200]
    assert invalid["code"] == 1600200  # still inside the same minute
    cj_simulator.advance_clock(61)
    assert requests.post(url, json={"refreshToken": "0" * 32}, timeout=5).json()["code"] == 1600003


def test_burst_above_qps_is_throttled(cj_simulator):
    cj_simulator.reset(qps=2)
    headers = {"CJ-Access-Token": _login(cj_simulator)}

    codes = [
        requests.get(cj_simulator.base_url + "product/getCategory", headers=headers, timeout=5).json()["code"]
        for _ in range(4)
    ]

    assert codes == [200, 200, 1600200, 1600200]
    assert cj_simulator.stats()["throttled"] == 2


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((body, self.headers.get("sign")))
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    _Receiver.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield _Receiver, f"http://127.0.0.1:{server.server_address[1]}/api/webhooks/cj"
    server.shutdown()
    server.server_close()


def _wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_webhooks_are_signed_with_the_open_id(cj_simulator, receiver):
    handler, url = receiver
    get_client().set_webhook(callback_url=url)

    cj_simulator.set_stock("2408300610371613201", 5, country_code="US")
    cj_simulator.set_price("2408300610371613202", "3.10")
    _wait_for(lambda: len(handler.received) == 2)

    messages = [json.loads(body) for body, _sign in handler.received]
    for body, sign in handler.received:
        expected = base64.b64encode(hmac.new(b"1234567890", body, hashlib.sha256).digest()).decode()
        assert sign == expected
    assert [(m["type"], m["messageType"], m["openId"]) for m in messages] == [
        ("STOCK", "UPDATE", 1234567890),
        ("VARIANT", "UPDATE", 1234567890),
    ]
    assert messages[0]["params"]["2408300610371613201"][1] == {
        "vid": "2408300610371613201",
        "areaId": "2",
        "areaEn": "US Warehouse",
        "countryCode": "US",
        "storageNum": 5,
    }
    assert (messages[1]["params"]["variantSellPrice"], messages[1]["params"]["fields"]) == (3.1, ["variantSellPrice"])


def test_failed_pushes_are_retried_then_pause_everything(cj_simulator, receiver):
    handler, url = receiver
    handler.status = 500
    get_client().set_webhook(callback_url=url)

    message_id = cj_simulator.push_webhook("ORDER", {"orderNumber": "T-1", "orderStatus": "SHIPPED"})
    _wait_for(lambda: cj_simulator.webhooks()["stats"]["paused"], timeout=8)

    stats = cj_simulator.webhooks()["stats"]
    deliveries = cj_simulator.webhooks()["deliveries"]
    assert stats["paused"] is True
    assert [(d["message_id"], d["attempt"], d["status"]) for d in deliveries] == [
        (message_id, attempt, 500) for attempt in (1, 2, 3, 4)
    ]
    # Paused: nothing is sent until the webhook is registered again.
    cj_simulator.set_stock("2408300610371613201", 1)
    handler.status = 200
    get_client().set_webhook(callback_url=url)
    cj_simulator.set_stock("2408300610371613201", 2)
    _wait_for(lambda: len(handler.received) == 5)
    later = [json.loads(body)["params"] for body, _sign in handler.received[4:]]
    assert [params["2408300610371613201"][0]["storageNum"] for params in later] == [2]


def test_order_lifecycle_by_time(cj_simulator):
    cj_simulator.reset(auto_advance_seconds=0.3)
    token_headers = {"CJ-Access-Token": _login(cj_simulator)}
    body = json.loads((SAMPLES / "shopping_createOrderV2.request.json").read_text())
    body["payType"] = 2

    created = requests.post(
        cj_simulator.base_url + "shopping/order/createOrderV2", json=body, headers=token_headers, timeout=5
    ).json()
    _wait_for(lambda: cj_simulator.orders()[0]["orderStatus"] == "DELIVERED", timeout=5)

    assert created["data"]["orderStatus"] == "UNSHIPPED"
    assert cj_simulator.orders()[0]["history"] == ["CREATED", "UNSHIPPED", "SHIPPED", "DELIVERED"]


def test_every_route_is_served_by_the_module_of_its_cj_section():
    sections = {endpoint: handler.__module__ for endpoint, (_method, handler, _token, _points) in ROUTES.items()}

    assert len(sections) == 28
    assert sections == {endpoint: "integrations.cj.simulator.api." + endpoint.split("/")[0] for endpoint in sections}
