"""Webhook pushes from the simulator, as CJ delivers them (CONTRACT §9).

Messages use the §9.4 envelope and are signed per §9.3: header `sign` = Base64(HMAC-SHA256(key =
openId as a decimal string, message = the raw body)). Each push is a POST with CJ's 3-second
timeout; a non-200 answer is retried after `webhook_retry_delay` seconds, at most 3 times; once
half of the deliveries since the last registration failed (at least 4), every push is paused
until `webhook/set` is called again (new messages are dropped meanwhile, as CJ does).
"""

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from integrations.cj.simulator.catalog import SimProduct, SimVariant
    from integrations.cj.simulator.state import SimOrder, Simulator

FAMILY_OF_TYPE = {
    "PRODUCT": "product",
    "VARIANT": "product",
    "STOCK": "stock",
    "ORDER": "order",
    "ORDERSPLIT": "order",
    "LOGISTIC": "logistics",
}
MAX_RETRIES = 3
PAUSE_MIN_DELIVERIES = 4
_PRODUCT_FIELDS = (
    "categoryId",
    "categoryName",
    "productDescription",
    "productImage",
    "productName",
    "productNameEn",
    "productProperty1",
    "productProperty2",
    "productProperty3",
    "productSellPrice",
    "productSku",
    "productStatus",
)
_VARIANT_FIELDS = (
    "variantName",
    "variantWeight",
    "variantLength",
    "variantWidth",
    "variantHeight",
    "variantImage",
    "variantSku",
    "variantKey",
    "variantSellPrice",
    "variantStatus",
    "variantValue1",
    "variantValue2",
    "variantValue3",
)


def sign(body: bytes, open_id: int | str) -> str:
    """CJ's webhook signature of a raw body."""
    digest = hmac.new(str(open_id).encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class Pusher:
    """Delivers queued webhook messages from a background thread."""

    def __init__(self, sim: "Simulator") -> None:
        self.sim = sim
        self._condition = threading.Condition()
        self._queue: list[tuple[float, int, dict[str, Any]]] = []
        self._sequence = itertools.count()
        self._session = requests.Session()
        self.reset()
        self._thread = threading.Thread(target=self._run, name="cj-sim-webhooks", daemon=True)
        self._thread.start()

    def reset(self) -> None:
        with self._condition:
            self._queue.clear()
            self.paused = False
            self.counters = {"queued": 0, "delivered": 0, "failed_attempts": 0, "dropped": 0, "attempts": 0}
            self.log: deque[dict[str, Any]] = deque(maxlen=500)

    def resume(self) -> None:
        """A new registration un-pauses pushes and restarts the failure-rate count."""
        with self._condition:
            self.paused = False
            self.counters["attempts"] = 0
            self.counters["failed_attempts"] = 0

    def stats(self) -> dict[str, Any]:
        with self._condition:
            return {**self.counters, "paused": self.paused, "pending": len(self._queue)}

    # --- messages (called with the simulator's lock held) ---------------------------------------
    def push(self, message_type: str, change: str, params: dict[str, Any]) -> str | None:
        """Queue a message for its family's callback URL; returns its messageId (None if not sent)."""
        family = FAMILY_OF_TYPE.get(message_type)
        url = self.sim.webhooks.get(family or "")
        message_id = uuid.uuid4().hex
        if url is None:
            return None
        message = {
            "messageId": message_id,
            "type": message_type,
            "messageType": change,
            "openId": self.sim.config.open_id,
            "params": params,
        }
        body = json.dumps(message, separators=(",", ":")).encode()
        delivery = {"message_id": message_id, "type": message_type, "url": url, "body": body, "attempt": 1}
        with self._condition:
            if self.paused:
                self.counters["dropped"] += 1
                return None
            self.counters["queued"] += 1
            heapq.heappush(self._queue, (time.monotonic(), next(self._sequence), delivery))
            self._condition.notify()
        return message_id

    def stock_changed(self, variant: "SimVariant") -> None:
        from integrations.cj.simulator.catalog import WAREHOUSES

        rows = []
        for country, units in variant.stock.items():
            area_id, area_name, _name = WAREHOUSES.get(country, (9, f"{country} Warehouse", country))
            rows.append(
                {
                    "vid": variant.vid,
                    "areaId": str(area_id),
                    "areaEn": area_name,
                    "countryCode": country,
                    "storageNum": units,
                }
            )
        self.push("STOCK", "UPDATE", {variant.vid: rows})

    def variant_changed(self, variant: "SimVariant", change: str, fields: dict[str, Any]) -> None:
        params: dict[str, Any] = dict.fromkeys(_VARIANT_FIELDS)
        params.update({"vid": variant.vid, **fields, "fields": sorted(fields)})
        self.push("VARIANT", change, params)

    def product_changed(self, product: "SimProduct", change: str, fields: dict[str, Any]) -> None:
        params: dict[str, Any] = dict.fromkeys(_PRODUCT_FIELDS)
        params.update({"pid": product.pid, **fields, "fields": sorted(fields)})
        self.push("PRODUCT", change, params)

    def order_changed(self, order: "SimOrder") -> None:
        sim = self.sim
        tracking_url = f"https://track.example.test/{order.track_number}" if order.track_number else None
        self.push(
            "ORDER",
            "UPDATE",
            {
                "cjOrderId": order.cj_order_id,
                "orderNum": order.order_number,
                "orderNumber": order.order_number,
                "orderStatus": order.status,
                "logisticName": order.logistic_name,
                "trackNumber": order.track_number or None,
                "trackingUrl": tracking_url,
                "createDate": sim.order_date(order.created_at),
                "updateDate": sim.order_date(order.status_changed_at),
                "payDate": sim.order_date(order.paid_at),
                "deliveryDate": sim.order_date(order.status_changed_at) if order.status == "SHIPPED" else None,
                "completeDate": sim.order_date(order.status_changed_at) if order.status == "DELIVERED" else None,
            },
        )
        if order.status in ("SHIPPED", "DELIVERED"):
            status = 12 if order.status == "DELIVERED" else 1
            events = [
                {
                    "status": status,
                    "activity": "Delivered" if status == 12 else "Parcel left warehouse",
                    "location": order.body.get("shippingCity", "") if status == 12 else "Shenzhen, CN",
                    "eventTime": sim.order_date(order.status_changed_at),
                    "statusDesc": "Delivered" if status == 12 else "Warehouse outbound",
                    "thirdActivity": "",
                    "thirdLocation": "",
                    "thirdEventTime": "",
                }
            ]
            self.push(
                "LOGISTIC",
                "UPDATE",
                {
                    "orderId": order.cj_order_id,
                    "logisticName": order.logistic_name,
                    "trackingNumber": order.track_number,
                    "trackingUrl": tracking_url,
                    "trackingStatus": status,
                    "logisticsTrackEvents": json.dumps(events),
                },
            )

    # --- delivery thread ------------------------------------------------------------------------
    def _next_due(self) -> dict[str, Any] | None:
        with self._condition:
            if not self._queue:
                self._condition.wait(timeout=1.0)
                return None
            due, _sequence, delivery = self._queue[0]
            delay = due - time.monotonic()
            if delay > 0:
                self._condition.wait(timeout=min(delay, 1.0))
                return None
            heapq.heappop(self._queue)
            if self.paused:
                self.counters["dropped"] += 1
                return None
            return delivery

    def _run(self) -> None:
        while True:
            delivery = self._next_due()
            if delivery is not None:
                self._deliver(delivery)

    def _deliver(self, delivery: dict[str, Any]) -> None:
        config = self.sim.config
        entry = {key: delivery[key] for key in ("message_id", "type", "url", "attempt")}
        try:
            response = self._session.post(
                delivery["url"],
                data=delivery["body"],
                headers={"Content-Type": "application/json", "sign": sign(delivery["body"], config.open_id)},
                timeout=config.webhook_timeout,
            )
            entry["status"] = response.status_code
            ok = response.status_code == 200
        except requests.RequestException as error:
            entry["error"] = type(error).__name__
            ok = False
        entry["ok"] = ok
        with self._condition:
            self.log.append(entry)
            self.counters["attempts"] += 1
            if ok:
                self.counters["delivered"] += 1
                return
            self.counters["failed_attempts"] += 1
            attempts = self.counters["attempts"]
            if attempts >= PAUSE_MIN_DELIVERIES and self.counters["failed_attempts"] * 2 >= attempts:
                self.paused = True
            if delivery["attempt"] <= MAX_RETRIES and not self.paused:
                retry = {**delivery, "attempt": delivery["attempt"] + 1}
                due = time.monotonic() + config.webhook_retry_delay
                heapq.heappush(self._queue, (due, next(self._sequence), retry))
            else:
                self.counters["dropped"] += 1
