"""Benchmark of the catalog sync.

1. The write path alone: `products_upsert` fed with generated CJ dataclasses (no HTTP), in pages
   of 100 products: variants upserted per second when creating, re-pricing and re-reading
   unchanged data (goal >= 20,000/s), median of three rounds of 2,000 products each.
2. A full sync against the CJ simulator at CJ_QPS=5 with 4 RQ workers (real client, shared
   limiter) of a shop that carries every simulated product (rows seeded as staff imports would
   leave them): achieved QPS / allowed (goal >= 0.9), throttled answers (goal 0), CJ calls vs the
   minimum, one `product/query` per product we carry (goal <= 1.05x).

    .venv/bin/python bench/sync.py [--products 2000] [--variants 10] [--rounds 3] [--sim-products 100]

Uses its own database (`BENCH_SYNC_DATABASE_NAME`, default `bench_sync`) and Redis databases 8/9.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from figures import figure  # noqa: E402 - bench/ is sys.path[0] when run as a script

DB_NAME = os.environ.get("BENCH_SYNC_DATABASE_NAME", "bench_sync")
QPS = 5.0
ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"),
    "REDIS_CACHE_URL": os.environ.get("BENCH_REDIS_CACHE_URL", "redis://127.0.0.1:6379/9"),
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "CJ_QPS": str(QPS),
    "CJ_API_KEY": "SIMULATOR-DEMO-KEY",
    "CJ_OPEN_ID": "1234567890",
}


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=BASE_DIR, env={**os.environ, **ENV}, check=True
    )


def generated_products(count: int, variants: int, *, price: str, prefix: str = "B") -> list:
    from integrations.cj import types as cj

    products = []
    for n in range(count):
        pid = f"{prefix}{n:07d}"
        product_variants = tuple(
            cj.Variant(
                vid=f"{pid}-{v}",
                pid=pid,
                sku=f"SKU-{pid}-{v}",
                name=f"Variant {v}",
                option_values=("Black", str(v)),
                image="",
                sell_price=Decimal(price) + v,
                weight_grams=Decimal("100"),
                inventories=(cj.Inventory(country_code="CN", total=10 + v, cj=0, factory=10 + v),),
            )
            for v in range(variants)
        )
        products.append(
            cj.Product(
                pid=pid,
                name=f"Bench product {n}",
                sku=f"SKU-{pid}",
                images=(f"https://img.example.test/{pid}.jpg",),
                description="<p>Bench</p>",
                category_id=f"CAT-{n % 20}",
                category_name=f"Category {n % 20}",
                sell_price=cj.DecimalRange(low=Decimal(price), high=Decimal(price) + variants),
                weight_grams=None,
                is_on_sale=True,
                option_names=("Color", "Size"),
                variants=product_variants,
            )
        )
    return products


def bench_write_path(products: int, variants: int, rounds: int) -> None:
    """Each round creates its own products, re-prices them, then sends them again unchanged;
    the figure is the median round (this VM's speed moves from one minute to the next)."""
    from catalog.sync.upsert import products_upsert

    rates: dict[str, list[float]] = {}
    for round_number in range(rounds):
        prefix = chr(ord("B") + round_number)
        for label, price in (("create", "4.00"), ("re-price (update)", "5.00"), ("unchanged (no write)", "5.00")):
            batch = generated_products(products, variants, price=price, prefix=prefix)
            started = time.perf_counter()
            written = 0
            for start in range(0, len(batch), 100):
                written += products_upsert(products=batch[start : start + 100]).variants_written
            elapsed = time.perf_counter() - started
            rates.setdefault(label, []).append(products * variants / elapsed)
            print(f"round {round_number + 1}, write path, {label}: {products * variants:,} variants in "
                  f"{elapsed:.2f}s ({written:,} rows written)")  # fmt: skip
    for label, values in rates.items():
        rate = statistics.median(values)
        spread = f" (rounds {', '.join(f'{value:,.0f}' for value in values)})" if len(values) > 1 else ""
        figure("sync.py", f"write path, {label}", f"{rate:,.0f} variants/s{spread}", ">= 20,000/s", rate >= 20_000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_full_sync(sim_products: int, workers: int) -> None:
    import redis
    import requests

    port = free_port()
    env = {**os.environ, **ENV, "CJ_API_BASE": f"http://127.0.0.1:{port}/api2.0/v1/"}
    simulator = subprocess.Popen(
        [sys.executable, "manage.py", "cj_simulator", "--port", str(port), "--products", str(sim_products)],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    control = f"http://127.0.0.1:{port}/_sim/"
    processes = [simulator]
    try:
        for _ in range(100):
            try:
                requests.get(control + "info", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        requests.post(control + "reset", json={"products": sim_products, "qps": QPS}, timeout=10).raise_for_status()
        redis.Redis.from_url(ENV["REDIS_URL"]).flushdb()
        # The sync reads the shop's own products only: the shop carries the simulator's catalogue.
        from catalog.models import Product

        pids = requests.get(control + "info", timeout=10).json()["pids"]
        Product.objects.all().delete()  # the write-path bench's generated products are not CJ's
        Product.objects.bulk_create([Product(cj_pid=pid, name=pid, is_published=True) for pid in pids])
        started = time.monotonic()
        # Enqueue before the burst workers start: a burst worker that finds an empty queue exits.
        subprocess.run(
            [sys.executable, "manage.py", "sync_cj", "products", "--full", "--enqueue"],
            cwd=BASE_DIR, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        processes += [
            subprocess.Popen(
                [sys.executable, "manage.py", "rqworker", "sync-products", "--burst"],
                cwd=BASE_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        for worker in processes[1:]:
            worker.wait(timeout=3600)
        elapsed = time.monotonic() - started
        stats = requests.get(control + "stats", timeout=10).json()
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
    from catalog.models import SyncRun

    run = SyncRun.objects.filter(kind=SyncRun.Kind.FULL).latest("started_at")
    run_seconds = (run.finished_at - run.started_at).total_seconds()
    calls = {endpoint: count for endpoint, count in stats["calls"].items() if not endpoint.startswith("authentication")}
    total = sum(calls.values())
    minimum = sim_products  # one detail per product we carry, never a listing
    achieved = total / run_seconds
    print(f"full sync of {sim_products} products, CJ_QPS={QPS:g}, {workers} workers: run {run.status} in "
          f"{run_seconds:.1f}s ({elapsed:.1f}s with process start-up), CJ calls {calls}")  # fmt: skip
    name = "sync.py"
    figure(name, "full sync, achieved QPS / allowed", f"{achieved:.2f} / {QPS:g} = {achieved / QPS:.2f}",
           ">= 0.9", achieved / QPS >= 0.9)  # fmt: skip
    figure(name, "full sync, throttled answers", f"{stats['throttled']} (max QPS seen by CJ {stats['max_qps']})",
           "0", stats["throttled"] == 0)  # fmt: skip
    figure(name, "full sync, CJ calls / minimum", f"{total} / {minimum} = {total / minimum:.3f}x",
           "<= 1.05x", total / minimum <= 1.05)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--variants", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="write-path rounds; the median is the figure")
    parser.add_argument("--sim-products", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    recreate_database()
    os.environ.update(ENV)
    import django

    django.setup()
    bench_write_path(args.products, args.variants, args.rounds)
    bench_full_sync(args.sim_products, args.workers)


if __name__ == "__main__":
    main()
