"""Benchmark of paying CJ after placing, on loopback against the CJ simulator at CJ_QPS=5.

Orders are accepted (the intake service) at a steady interval, forwarded and paid by 2 workers
on `create-order`. Printed, from the orders' timelines:

1. Time from `placed` to paid at CJ, p50 and p99, beside the baseline measured on the same orders
   in the same run: the time from acceptance to `placed` (one lookup and one createOrderV2).
2. CJ calls per paid order against CJ's documented minimum (getOrderDetail, addCart,
   addCartConfirm, saveGenerateParentOrder, payBalanceV2 = 5) and payments per order (must be 1).

Uses its own database (`bench_cj_payment`) and Redis databases of its own, flushed first:
`BENCH_REDIS_URL` / `BENCH_REDIS_CACHE_URL` (default redis://127.0.0.1:6379/10 and /11).

    .venv/bin/python bench/cj_payment.py [--orders 20] [--interval 1.5] [--workers 2]
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
DB_NAME = "bench_cj_payment"
QPS = 5
PAY_CALLS = (
    "shopping/order/getOrderDetail",
    "shopping/order/addCart",
    "shopping/order/addCartConfirm",
    "shopping/order/saveGenerateParentOrder",
    "shopping/pay/payBalanceV2",
    "shopping/pay/payBalance",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SIM_PORT = _free_port()
BENCH_ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"),
    "REDIS_CACHE_URL": os.environ.get("BENCH_REDIS_CACHE_URL", "redis://127.0.0.1:6379/11"),
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "LOG_LEVEL": "WARNING",
    "CJ_API_BASE": f"http://127.0.0.1:{SIM_PORT}/api2.0/v1/",
    "CJ_API_KEY": "SIMULATOR-DEMO-KEY",
    "CJ_OPEN_ID": "1234567890",
    "CJ_QPS": str(QPS),
    "CJ_PAY_TYPE": "3",
    "CJ_DAILY_SPEND_LIMIT": "0",  # the limit is not what is measured
    "RQ_RETRY_INTERVALS": "1,2,4",
}


def _spawn(*command: str) -> subprocess.Popen:
    return subprocess.Popen(
        list(command), cwd=BASE_DIR, env={**os.environ, **BENCH_ENV}, stdout=subprocess.DEVNULL, start_new_session=True
    )


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def main() -> None:
    from figures import figure

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.5, help="seconds between accepted orders")
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    os.environ.update(BENCH_ENV)

    import psycopg
    import redis
    import requests

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    for url in (BENCH_ENV["REDIS_URL"], BENCH_ENV["REDIS_CACHE_URL"]):
        redis.Redis.from_url(url).flushdb()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=BASE_DIR, check=True)
    simulator = _spawn(sys.executable, "manage.py", "cj_simulator", "--port", str(SIM_PORT), "--products", "10",
                       "--qps", str(QPS))  # fmt: skip
    processes = [simulator]
    try:
        sim = f"http://127.0.0.1:{SIM_PORT}/_sim/"
        for _ in range(100):
            try:
                requests.get(sim + "info", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        requests.post(sim + "balance", json={"amount": "100000.00"}, timeout=5)
        # The shop sells what staff imported: the simulator's 10 products, published.
        pids = requests.get(sim + "info", timeout=5).json()["pids"]
        subprocess.run([sys.executable, "manage.py", "sync_cj", "import", "--publish",
                        *[arg for pid in pids for arg in ("--pid", pid)]],
                       cwd=BASE_DIR, check=True, stdout=subprocess.DEVNULL)  # fmt: skip

        import django

        django.setup()
        from catalog.models import Variant
        from orders import services
        from orders.freight import freight_quote
        from orders.models import Order, OrderEvent

        Variant.objects.update(stock=1_000_000, cj_stock=1_000_000)
        variants = list(Variant.objects.filter(status="active").order_by("pk"))
        address = services.ShippingAddress(
            line1="1 Main St", city="Austin", province="TX", zip="78701", country_code="US"
        )
        quotes = {v.pk: freight_quote(country_code="US", zip="78701", lines=[(v, 1)])[0] for v in variants}
        calls_before = requests.get(sim + "stats", timeout=5).json()["calls"]
        processes += [
            _spawn(sys.executable, "manage.py", "rqworker", "create-order", "--with-scheduler")
            for _ in range(options.workers)
        ]
        time.sleep(2)
        numbers = []
        for n in range(options.orders):
            variant = variants[n % len(variants)]
            order, _ = services.order_place(
                email=f"bench{n}@example.com", name="Bench Buyer", phone="", address=address,
                lines=[services.OrderLineInput(variant_id=variant.pk, quantity=1)],
                logistic_name=quotes[variant.pk].logistic_name, shipping_total=quotes[variant.pk].total_price,
            )  # fmt: skip
            numbers.append(order.number)
            time.sleep(options.interval)
        deadline = time.monotonic() + 120
        while Order.objects.filter(number__in=numbers).exclude(cj_payment_status="paid").exists():
            if time.monotonic() > deadline:
                raise RuntimeError("orders not paid at CJ within 2 minutes")
            time.sleep(0.5)
        calls_after = requests.get(sim + "stats", timeout=5).json()["calls"]
        to_placed, to_paid = [], []
        for order in Order.objects.filter(number__in=numbers):
            events = OrderEvent.objects.filter(order=order)
            accepted = events.get(to_status="pending").created_at
            placed = events.get(to_status="placed").created_at
            paid = events.get(message__startswith="Paid at CJ").created_at
            to_placed.append((placed - accepted).total_seconds() * 1000)
            to_paid.append((paid - placed).total_seconds() * 1000)
        pay_calls = {e: calls_after.get(e, 0) - calls_before.get(e, 0) for e in PAY_CALLS}
        payments = pay_calls["shopping/pay/payBalanceV2"] + pay_calls["shopping/pay/payBalance"]
        # getOrderDetail also carries forwarding's lookup before createOrderV2: one per order.
        per_order = (sum(pay_calls.values()) - len(numbers)) / len(numbers)
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)

    placed_p50, placed_p99 = _percentiles(to_placed)
    paid_p50, paid_p99 = _percentiles(to_paid)
    print(f"accepted -> placed (baseline)  p50 {placed_p50:7.0f} ms  p99 {placed_p99:7.0f} ms")
    print(f"placed -> paid at CJ           p50 {paid_p50:7.0f} ms  p99 {paid_p99:7.0f} ms"
          f"   ratio p50 {paid_p50 / placed_p50:.2f}x")  # fmt: skip
    print(
        f"CJ calls per paid order        {per_order:.2f} (minimum 5)   payments per order {payments / len(numbers):.2f}"
    )
    print(f"calls: {pay_calls}")
    figure("cj_payment.py", "accepted -> placed (baseline)", f"p50 {placed_p50:,.0f} ms, p99 {placed_p99:,.0f} ms")
    figure(
        "cj_payment.py",
        f"placed -> paid at CJ ({len(numbers)} orders, 1 per {options.interval:g} s, CJ_QPS={QPS})",
        f"p50 {paid_p50:,.0f} ms, p99 {paid_p99:,.0f} ms = {paid_p50 / placed_p50:.2f}x baseline p50",
    )
    figure("cj_payment.py", "CJ calls per paid order / minimum", f"{per_order:.2f} / 5 = {per_order / 5:.2f}x")
    figure("cj_payment.py", "payments per order", f"{payments / len(numbers):.2f}", goal="1.00",
           met=payments == len(numbers))  # fmt: skip


if __name__ == "__main__":
    main()
