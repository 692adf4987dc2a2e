"""The simulator's HTTP server: CJ's API under /api2.0/v1/ and the control API under /_sim/.

A threaded stdlib HTTP server (one thread per connection), so many workers can call it at once;
the state is guarded by one lock, and injected latency is slept outside it.
"""

import json
import logging
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from integrations.cj.simulator import control
from integrations.cj.simulator.api.routes import ROUTES
from integrations.cj.simulator.api.shopping import LIFECYCLE, set_order_status
from integrations.cj.simulator.api.wire import AltEnvelope, SimRequest, decode_body
from integrations.cj.simulator.state import SimConfig, SimError, Simulator
from integrations.cj.simulator.webhooks import Pusher

logger = logging.getLogger(__name__)
API_PREFIX = "/api2.0/v1/"
CONTROL_PREFIX = "/_sim/"


def envelope(data: Any) -> dict[str, Any]:
    return {"code": 200, "result": True, "message": "Success", "data": data, "requestId": str(uuid.uuid4())}


def error_envelope(error: SimError) -> dict[str, Any]:
    body = {"code": error.code, "result": False, "message": error.message, "data": None, "requestId": str(uuid.uuid4())}
    return {**body, **error.extra}


def handle_api(
    sim: Simulator,
    method: str,
    endpoint: str,
    query: dict[str, list[str]],
    raw_body: bytes,
    token: str | None,
    arrived: float = 0.0,
) -> tuple[int, Any, float]:
    """Answer one CJ call: (HTTP status, JSON body or text, seconds to delay the answer)."""
    route = ROUTES.get(endpoint)
    if route is None:
        return 404, error_envelope(SimError(1600101, "Interface not found")), 0.0
    expected_method, handler, needs_token, points = route
    with sim.lock:
        sim.stats["calls"][endpoint] += 1
        fault = sim.pick_fault(endpoint)
    delay_answer = 0.0
    if fault is not None:
        if fault.kind == "latency":
            time.sleep(fault.latency_ms / 1000)
        elif fault.kind == "timeout":
            delay_answer = fault.latency_ms / 1000
        elif fault.kind == "http_5xx":
            return fault.status, "<html><body>Server Error</body></html>", 0.0
        elif fault.kind == "throttle":
            with sim.lock:
                sim.stats["throttled"] += 1
                error = sim.throttle_error()
            return error.http_status, error_envelope(error), 0.0
        elif fault.kind == "expired_token":
            return 200, error_envelope(SimError(1600001, "Invalid API key or access token")), 0.0
        elif fault.kind == "busy":
            return 200, error_envelope(SimError(1600000, "System busy, please try again later")), 0.0
    try:
        if method != expected_method:
            raise SimError(16900202, f"Request method '{method}' not supported")
        body = decode_body(raw_body) if method != "GET" else None
        request = SimRequest(method=method, endpoint=endpoint, query=query, body=body, token=token)
        with sim.lock:
            if needs_token:
                sim.check_access_token(token)
                sim.observe_call(arrived or time.monotonic())
                sim.take_rate_slot()
                sim.count_daily(endpoint, points)
            data = handler(sim, request)
    except SimError as error:
        return error.http_status, error_envelope(error), delay_answer
    if isinstance(data, AltEnvelope):
        payload = {"success": True, "code": 0, "message": "success", "data": data.data, "requestId": str(uuid.uuid4())}
        return 200, payload, delay_answer
    return 200, envelope(data), delay_answer


def handle_control(sim: Simulator, method: str, path: str, raw_body: bytes) -> tuple[int, Any]:
    handler = control.CONTROL_ROUTES.get((method, path))
    if handler is None:
        return 404, {"error": f"no control endpoint {method} /_sim/{path}"}
    try:
        body = json.loads(raw_body) if raw_body.strip() else {}
    except ValueError:
        return 400, {"error": "body is not JSON"}
    if not isinstance(body, dict):
        return 400, {"error": "body must be a JSON object"}
    try:
        with sim.lock:
            return 200, handler(sim, body)
    except control.ControlError as error:
        return error.status, {"error": error.message}


class _Handler(BaseHTTPRequestHandler):
    server: "SimulatorServer"
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle + delayed ACK hold back each answer.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _handle(self) -> None:
        arrived = time.monotonic()
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        sim = self.server.sim
        delay = 0.0
        try:
            if parts.path.startswith(API_PREFIX):
                query = parse_qs(parts.query, keep_blank_values=True)
                token = self.headers.get("CJ-Access-Token")
                status, payload, delay = handle_api(
                    sim, self.command, parts.path[len(API_PREFIX) :], query, raw_body, token, arrived
                )
            elif parts.path.startswith(CONTROL_PREFIX):
                status, payload = handle_control(sim, self.command, parts.path[len(CONTROL_PREFIX) :], raw_body)
            else:
                status, payload = 404, {"error": "not found"}
        except Exception:
            logger.exception("cj_simulator.error", extra={"path": parts.path})
            status, payload = 500, error_envelope(SimError(1600000, "System busy"))
        if delay:
            time.sleep(delay)
        self._reply(status, payload)

    def _reply(self, status: int, payload: Any) -> None:
        if isinstance(payload, str):
            body, content_type = payload.encode(), "text/html"
        else:
            body, content_type = json.dumps(payload).encode(), "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its read timeout): as on the real network

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("cj_simulator.request", extra={"line": format % args})


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], config: SimConfig) -> None:
        super().__init__(address, _Handler)
        self.sim = Simulator(config)
        self.sim.pusher = Pusher(self.sim)
        self._ticker = threading.Thread(target=self._tick, name="cj-sim-clock", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        """Advance paid orders by time (UNSHIPPED -> SHIPPED -> DELIVERED) when auto-advance is on."""
        while True:
            time.sleep(0.5)
            with self.sim.lock:
                seconds = self.sim.config.auto_advance_seconds
                if seconds <= 0:
                    continue
                now = self.sim.now()
                for order in list(self.sim.orders.values()):
                    changed = order.status_changed_at
                    due = changed is not None and (now - changed).total_seconds() >= seconds
                    if order.status in ("UNSHIPPED", "SHIPPED") and due:
                        set_order_status(self.sim, order, LIFECYCLE[order.status])


def serve(*, host: str, port: int, config: SimConfig) -> SimulatorServer:
    """Create the server (bound); call `serve_forever()` on it."""
    return SimulatorServer((host, port), config)
