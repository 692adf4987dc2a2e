"""Benchmark of order intake and forwarding, on loopback against the CJ simulator.

1. Accepted orders/s of `POST /api/orders` relative to a minimal POST view in the same gunicorn
   (fixed workers, same middleware, throttling off), with 4 concurrent clients.
2. Time from acceptance (202) to `placed` at CJ, p50 and p99, for orders arriving at 1 per second
   with 2 workers on `create-order` and the simulator (and our client) at CJ_QPS=5.

Orders come from a storefront that took the payment itself (PAYMENTS_PROVIDER=external, its API
token and a payment reference), so intake and forwarding are measured without the Stripe step;
bench/payments.py measures intake with its PaymentIntent and the time from payment to placed.

Uses its own database (`bench_orders`) and Redis databases 2 and 3.

    .venv/bin/python bench/orders.py [--seconds 10] [--orders 30] [--workers 2]
"""

import argparse
import http.client
import json
import signal
import socket
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from harness import Processes, free_port, rate, stop, wait_for  # noqa: E402 (bench/ is sys.path[0])

DB_NAME = "bench_orders"
QPS = 5


SIM_PORT = free_port()
BENCH_ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": "redis://127.0.0.1:6379/2",
    "REDIS_CACHE_URL": "redis://127.0.0.1:6379/3",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "LOG_LEVEL": "WARNING",
    "CJ_API_KEY": "SIMULATOR-DEMO-KEY",
    "CJ_OPEN_ID": "1234567890",
    "CJ_QPS": str(QPS),
    "CJ_PAY_TYPE": "3",  # create only: the simulator's demo balance would run out over a long run
    "RQ_RETRY_INTERVALS": "1,2,4",
    "PAYMENTS_PROVIDER": "external",
    "STOREFRONT_API_TOKEN": "bench-storefront-token",
    "CJ_API_BASE": f"http://127.0.0.1:{SIM_PORT}/api2.0/v1/",
}
_manage, _spawn = (processes := Processes(BENCH_ENV)).manage, processes.spawn


def _post(port: int, path: str, body: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", "Authorization": "Bearer bench-storefront-token"}
        connection.request("POST", path, json.dumps(body), headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status >= 400:
            print(f"{path} answered {response.status}: {answer[:300]!r}", file=sys.stderr)
        return response.status
    finally:
        connection.close()


def main() -> None:
    # bench/ is sys.path[0] when run as a script (gunicorn imports this module as bench.orders).
    from figures import figure

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--orders", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    # Stopped from outside (timeout, Ctrl-C): still stop the servers and workers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    import psycopg
    import redis

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    for url in (BENCH_ENV["REDIS_URL"], BENCH_ENV["REDIS_CACHE_URL"]):
        redis.Redis.from_url(url).flushdb()
    _manage("migrate", "-v", "0")
    simulator = _spawn(sys.executable, "manage.py", "cj_simulator", "--port", str(SIM_PORT), "--products", "10",
                       "--qps", str(QPS))  # fmt: skip
    wait_for(lambda: socket.create_connection(("127.0.0.1", SIM_PORT), timeout=1), "the simulator")
    web_port = free_port()
    web = workers = None
    try:
        # The shop sells what staff imported: the simulator's 10 products, published.
        conn = http.client.HTTPConnection("127.0.0.1", SIM_PORT, timeout=10)
        conn.request("GET", "/_sim/info")
        pids = json.loads(conn.getresponse().read())["pids"]
        conn.close()
        _manage("sync_cj", "import", "--publish", *[arg for pid in pids for arg in ("--pid", pid)])
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}", autocommit=True) as db:
            db.execute("UPDATE catalog_variant SET stock = 1000000, cj_stock = 1000000")
            # Orders spread over the catalog: orders of one variant serialise on its row lock.
            variant_ids = [row[0] for row in db.execute("SELECT id FROM catalog_variant WHERE status = 'active'")]
        web = _spawn(sys.executable, "-m", "gunicorn", "bench.harness:application", "--bind", f"127.0.0.1:{web_port}",
                     "--workers", "2", "--log-level", "warning", BENCH_SERVE="1")  # fmt: skip
        wait_for(lambda: _post(web_port, "/api/bench/minimal", {"x": 1}) == 202, "gunicorn")

        def order(index: int, n: int) -> dict:
            return {
                "email": f"buyer{index}-{n}@example.com",
                "name": "Bench Buyer",
                "shipping_address": {
                    "line1": "1 Main St",
                    "city": "Austin",
                    "province": "TX",
                    "zip": "78701",
                    "country_code": "US",
                },
                "items": [{"variant_id": variant_ids[(index * 7 + n) % len(variant_ids)], "quantity": 1}],
                "payment_reference": f"bench-{index}-{n}",
            }

        # Quotes are cached for an hour: fetch them first, so that intake is measured, not CJ.
        for variant_id in variant_ids:
            quote = {"country_code": "US", "zip": "78701", "items": [{"variant_id": variant_id, "quantity": 1}]}
            _post(web_port, "/api/shipping/quote", quote)
        minimal = rate(lambda body: _post(web_port, "/api/bench/minimal", body), order, options.seconds)
        accepted = rate(lambda body: _post(web_port, "/api/orders", body), order, options.seconds)
        print(f"minimal POST view        {minimal:8.1f} req/s")
        print(f"POST /api/orders         {accepted:8.1f} accepted/s   ratio {accepted / minimal:.2f}")
        figure("orders.py", "minimal POST view", f"{minimal:,.0f} req/s")
        figure("orders.py", "POST /api/orders accepted", f"{accepted:,.0f} /s = {accepted / minimal:.2f}x minimal")

        # Latency to `placed`: a fresh queue, workers on, orders arriving at 1 per second.
        from rq import Queue

        Queue("create-order", connection=redis.Redis.from_url(BENCH_ENV["REDIS_URL"])).empty()
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}", autocommit=True) as db:
            db.execute("UPDATE orders_order SET status = 'cancelled'")
        workers = [
            _spawn(sys.executable, "manage.py", "rqworker", "create-order", "--with-scheduler")
            for _ in range(options.workers)
        ]
        time.sleep(2)
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}", autocommit=True) as db:
            phase_started = db.execute("SELECT now()").fetchone()[0]
        for n in range(options.orders):
            assert _post(web_port, "/api/orders", order(1000, n)) == 202
            time.sleep(1)
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}", autocommit=True) as db:

            def placed() -> bool:
                left = db.execute("SELECT count(*) FROM orders_order WHERE status IN ('paid', 'forwarding')")
                return left.fetchone()[0] == 0

            wait_for(placed, "forwarding of every order", timeout=300)
            rows = db.execute(
                """SELECT EXTRACT(EPOCH FROM e.created_at - o.created_at) FROM orders_order o
                   JOIN orders_orderevent e ON e.order_id = o.id AND e.to_status = 'placed'
                   WHERE o.created_at >= %s""",
                [phase_started],
            ).fetchall()
            failed = db.execute(
                "SELECT count(*) FROM orders_order WHERE created_at >= %s AND status <> 'placed'", [phase_started]
            ).fetchone()[0]
        if failed:
            raise RuntimeError(f"{failed} orders were not placed")
        seconds = sorted(float(row[0]) for row in rows)
        p50 = statistics.median(seconds)
        p99 = seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))]
        print(f"acceptance -> placed     p50 {p50 * 1000:7.0f} ms   p99 {p99 * 1000:7.0f} ms   "
              f"({len(seconds)} orders, 1/s, {options.workers} workers, CJ_QPS={QPS})")  # fmt: skip
        figure("orders.py", f"acceptance -> placed ({len(seconds)} orders at 1/s, CJ_QPS={QPS})",
               f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")  # fmt: skip
    finally:
        stop(*(p for p in (web, simulator, *(workers or [])) if p is not None))


if __name__ == "__main__":
    main()
