"""Benchmark of the CJ webhook receiver and of the `process-webhook` queue.

1. Ack latency: gunicorn (sync workers) serves `POST /api/webhooks/cj` on loopback; signed STOCK
   messages (each for one of the bench's variants) arrive open-loop at a fixed rate; after 2 s of
   warm-up at that rate, prints p50, p99 and max of the answer time over the next 10 s (goal at
   200 requests/s: p99 <= 10 ms, none over 1 s).
   gunicorn runs as the Procfile's `web` process does (sync workers, 2 by default). The load
   generator shares the machine's cores with the server, so its own CPU time is printed too.
2. Processing: the events stored by part 1 are processed by one burst worker of the project's
   worker class (`config.worker.Worker`), then as many no-op jobs on the same queue and worker
   class; prints the events applied per second, the no-op jobs per second and their ratio (goal
   >= 0.5). Both job modules are imported by the worker before it forks (the worker does it for
   every app's `jobs` module, the bench for its no-op), so neither rate pays an import per job.
3. Catch-up: a burst of `--burst` (10,000) STOCK events, stored and enqueued one by one as the
   receiver does, applied by one burst worker process (STOCK events go in batches of
   `webhooks.services.STOCK_BATCH`, set-based): events per second (goal >= 300). Then the same
   events, put back to `received` with the variants' figures as before, are processed by calling
   the service in a plain loop in this process, oldest waiting event first as the worker takes
   them (the same SQL statements plus one id look-up per batch; no queue, no fork); the ratio of
   the two rates is what the queue costs.

Headline figures go through `bench/figures.py` (`make bench` collects them into one table).

Uses its own database (`BENCH_DATABASE_NAME`, default `bench_webhooks`) and Redis database
(`BENCH_REDIS_URL`, default db 12; only this bench's queue and keys are touched).

    .venv/bin/python bench/webhooks.py [--rate 200] [--seconds 10] [--workers 2] [--variants 500] [--burst 10000]
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from pathlib import Path

from figures import figure

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "bench_webhooks")
OPEN_ID = "1234567890"  # placeholder account id, as in the simulator and CJ's samples
BENCH_ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
    "REDIS_CACHE_URL": os.environ.get("BENCH_REDIS_CACHE_URL", "redis://127.0.0.1:6379/13"),
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "LOG_LEVEL": "WARNING",
    "CJ_OPEN_ID": OPEN_ID,
    "CJ_API_KEY": "",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def noop_job() -> None:
    """The baseline: a job that does nothing, run by the same worker class."""


def setup_database(variants: int) -> list[str]:
    """(Re)create the bench database, migrate, and add `variants` variants; returns their CJ vids."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=BASE_DIR, check=True)
    from decimal import Decimal

    from catalog.models import Product, Variant

    products = Product.objects.bulk_create(
        Product(cj_pid=f"BP{n}", name=f"Bench product {n}", min_price=Decimal("9.90"), max_price=Decimal("9.90"))
        for n in range(variants)
    )
    Variant.objects.bulk_create(
        Variant(
            cj_vid=f"BV{n}",
            product=product,
            supplier_cost=Decimal("4.00"),
            price=Decimal("9.90"),
            stock=10,
            cj_stock=10,
        )
        for n, product in enumerate(products)
    )
    return [f"BV{n}" for n in range(variants)]


def free_port() -> int:
    if os.environ.get("BENCH_WEB_PORT"):  # a port of one's own, when several people share the machine
        return int(os.environ["BENCH_WEB_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signed_body(message_id: str, vid: str, stock: int) -> tuple[bytes, str]:
    message = {
        "messageId": message_id,
        "type": "STOCK",
        "messageType": "UPDATE",
        "openId": int(OPEN_ID),
        "params": {vid: [{"vid": vid, "areaId": "1", "areaEn": "China Warehouse", "countryCode": "CN",
                          "storageNum": stock}]},
    }  # fmt: skip
    body = json.dumps(message, separators=(",", ":")).encode()
    return body, base64.b64encode(hmac.new(OPEN_ID.encode(), body, hashlib.sha256).digest()).decode()


def post(port: int, body: bytes, signature: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/api/webhooks/cj", body=body,
                           headers={"Content-Type": "application/json", "sign": signature})  # fmt: skip
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def serve(workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--timeout", "30", "--log-level", "warning"],
        cwd=BASE_DIR, env=os.environ.copy(), stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            body, signature = signed_body("warm-up", "BV0", 10)
            if post(port, body, signature) == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def ack_latencies(
    port: int, *, rate: float, seconds: float, vids: list[str], prefix: str = "bench"
) -> tuple[list[float], list[int], float, float]:
    """Open loop: request i is sent at start + i/rate whatever the previous answers did.

    Returns the latencies (ms), the statuses, the elapsed seconds and the CPU seconds the load
    generator itself used meanwhile (it competes with the server for the same cores)."""
    total = int(rate * seconds)
    bodies = [signed_body(f"{prefix}-{n}", vids[n % len(vids)], n % 1000) for n in range(total)]
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def send(index: int) -> None:
        started = time.perf_counter()
        status = post(port, *bodies[index])
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            statuses.append(status)

    begun, cpu_begun = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for index in range(total):
            delay = begun + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, index)
    return latencies, statuses, time.perf_counter() - begun, time.process_time() - cpu_begun


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def drain(queue_name: str) -> tuple[int, float]:
    """Run one burst worker of the project's class on the queue; returns (jobs done, seconds)."""
    from django_rq.workers import get_worker

    import_module("bench.webhooks")  # the no-op's module, imported once here rather than in every horse
    worker = get_worker(queue_name)
    before = worker.queues[0].finished_job_registry.count + worker.queues[0].failed_job_registry.count
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    elapsed = time.perf_counter() - started
    after = worker.queues[0].finished_job_registry.count + worker.queues[0].failed_job_registry.count
    return after - before, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="webhook requests per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--variants", type=int, default=500)
    parser.add_argument("--burst", type=int, default=10_000, help="STOCK events of the catch-up burst")
    args = parser.parse_args()

    os.environ.update(BENCH_ENV)
    import django

    django.setup()
    from rq.exceptions import NoSuchJobError

    from config.queues import PROCESS_WEBHOOK, get_queue
    from webhooks.models import WebhookEvent

    vids = setup_database(args.variants)
    queue = get_queue(PROCESS_WEBHOOK)
    queue.empty()
    for registry in (queue.finished_job_registry, queue.failed_job_registry):
        for job_id in registry.get_job_ids():
            try:
                registry.remove(job_id, delete_job=True)
            except NoSuchJobError:  # the job expired before its registry entry
                registry.remove(job_id)

    server, port = serve(args.workers)
    try:
        # Steady state: the first pushes reaching each worker pay its PostgreSQL and Redis
        # connections, which a burst queues behind; 2 s of the same load go first.
        ack_latencies(port, rate=args.rate, seconds=2, vids=vids, prefix="warm-up")
        latencies, statuses, elapsed, client_cpu = ack_latencies(port, rate=args.rate, seconds=args.seconds, vids=vids)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    non_200 = len([status for status in statuses if status != 200])
    p50, p99, slowest = statistics.median(latencies), percentile(latencies, 0.99), max(latencies)
    over_1s = len([ms for ms in latencies if ms > 1000])
    achieved = len(latencies) / elapsed
    print(f"ack: {len(latencies)} signed STOCK pushes at {achieved:.1f}/s over {elapsed:.1f}s, "
          f"gunicorn {args.workers} sync workers, open loop; load generator used {client_cpu:.1f} CPU s "
          f"({100 * client_cpu / elapsed:.0f}% of one core)")  # fmt: skip
    print(
        f"ack latency p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {slowest:.2f} ms; over 1 s: {over_1s}; "
        f"non-200: {non_200} (goal p99 <= 10 ms, none over 1 s)"
    )
    rate = f"{args.rate:g}/s"
    figure("webhooks.py", f"ack p99 at {rate}", f"{p99:.1f} ms", "<= 10 ms", p99 <= 10 and non_200 == 0)
    figure("webhooks.py", f"ack over 1 s at {rate}", f"{over_1s} (max {slowest:.0f} ms)", "none", over_1s == 0)
    figure("webhooks.py", f"ack p50 at {rate}", f"{p50:.1f} ms")
    figure("webhooks.py", "ack non-200 answers", str(non_200))

    stored = WebhookEvent.objects.count()
    _done, seconds = drain(PROCESS_WEBHOOK)
    processed = WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count()
    webhook_rate = processed / seconds
    for _ in range(max(processed, 1)):
        queue.enqueue("bench.webhooks.noop_job")
    noop_done, noop_seconds = drain(PROCESS_WEBHOOK)
    noop_rate = noop_done / noop_seconds
    print(f"process-webhook: {processed} of {stored} stored events applied in {seconds:.1f}s = "
          f"{webhook_rate:.1f} events/s")  # fmt: skip
    print(f"no-op jobs:      {noop_done} jobs in {noop_seconds:.1f}s = {noop_rate:.1f} jobs/s (same worker class)")
    ratio = webhook_rate / noop_rate
    print(f"ratio {ratio:.2f} (goal >= 0.5)")
    figure("webhooks.py", "process-webhook events/s", f"{webhook_rate:.1f} ({processed} of {stored} events processed)")
    figure("webhooks.py", "no-op jobs/s, same worker class", f"{noop_rate:.1f}")
    figure(
        "webhooks.py", "process-webhook events / no-op jobs per s", f"{ratio:.2f}", ">= 0.5",
        ratio >= 0.5 and processed == stored,
    )  # fmt: skip
    catch_up(queue, vids, args.burst)


def catch_up(queue, vids: list[str], burst: int) -> None:
    """Part 3: a burst of STOCK events through one worker, then the same SQL in a plain loop."""
    from django.db import connection

    from catalog.models import Variant
    from webhooks.messages import message_parse
    from webhooks.models import WebhookEvent
    from webhooks.services import webhook_event_process, webhook_event_store

    WebhookEvent.objects.all().delete()
    Variant.objects.update(stock=10, cj_stock=10, stock_updated_at=None)
    for n in range(burst):
        body, _signature = signed_body(f"burst-{n}", vids[n % len(vids)], (n * 7) % 1000)
        webhook_event_store(message=message_parse(body), headers={}, remote_addr="127.0.0.1")
    assert queue.count == burst, queue.count
    _jobs, seconds = drain(queue.name)
    applied = WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count()
    burst_rate = applied / seconds
    figures = dict(Variant.objects.values_list("cj_vid", "stock"))

    # The same events and figures again, through the same service in a plain loop.
    WebhookEvent.objects.update(
        status=WebhookEvent.Status.RECEIVED, attempts=0, outcome="", error="", processed_at=None
    )
    Variant.objects.update(stock=10, cj_stock=10, stock_updated_at=None)
    waiting = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).order_by("id")
    connection.close()
    started = time.perf_counter()
    # As the worker runs them: the oldest waiting event's job (which takes a batch behind it); the
    # jobs of the events it took are gone from the queue, so they are not called either.
    while (event_id := waiting.values_list("id", flat=True).first()) is not None:
        webhook_event_process(event_id=event_id)
    loop_seconds = time.perf_counter() - started
    looped = WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count()
    loop_rate = looped / loop_seconds
    same = dict(Variant.objects.values_list("cj_vid", "stock")) == figures
    ratio = burst_rate / loop_rate
    print(f"catch-up: {applied} of {burst} STOCK events applied by one worker in {seconds:.1f}s = "
          f"{burst_rate:.0f} events/s (goal >= 300)")  # fmt: skip
    print(f"plain loop, same service and SQL in this process: {looped} in {loop_seconds:.1f}s = "
          f"{loop_rate:.0f} events/s; worker / loop {ratio:.2f}; same figures: {same}")  # fmt: skip
    figure("webhooks.py", f"catch-up, {burst:,} STOCK events, one worker", f"{burst_rate:.0f} events/s", ">= 300/s",
           burst_rate >= 300 and applied == burst)  # fmt: skip
    figure("webhooks.py", "catch-up, same SQL in a plain loop", f"{loop_rate:.0f} events/s")
    figure("webhooks.py", "catch-up, worker / plain loop", f"{ratio:.2f}", "same figures", same)


if __name__ == "__main__":
    main()
