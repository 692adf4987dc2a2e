"""Benchmark of the storefront catalog API, served by gunicorn (fixed workers) on loopback.

Fills its own database (`BENCH_DATABASE_NAME`, default `bench_catalog`) with 100,000 products and
300,000 variants generated in SQL (not through CJ), then measures requests/s in one run for:
a minimal JSON view (same middleware, no DB; throttling off for all), the cached list, the uncached list
(50 items), and the uncached list at 1k vs 100k products. Prints the figures and ratios.

    .venv/bin/python bench/products_api.py [--products 100000] [--seconds 5] [--workers 2]

Goals (issue 4): cached >= 0.7x minimal; uncached >= 0.2x minimal; 100k vs 1k latency <= 1.5x.
"""

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "bench_catalog")
BENCH_ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"),
    "REDIS_CACHE_URL": os.environ.get("BENCH_REDIS_CACHE_URL", "redis://127.0.0.1:6379/9"),
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}

# --- the WSGI app gunicorn serves: the project plus a minimal view -------------------------------
if os.environ.get("BENCH_SERVE"):
    from django.conf import settings as django_settings

    if os.environ.get("BENCH_NO_PRODUCTS_CACHE"):
        django_settings.CACHES["products"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    django_settings.ROOT_URLCONF = "bench.products_api"
    # Throttling would cap every figure; both the minimal view and the catalog run without it.
    django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = []
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()

    from django.urls import path
    from rest_framework.permissions import AllowAny
    from rest_framework.response import Response
    from rest_framework.views import APIView

    import config.urls

    class MinimalView(APIView):
        permission_classes = [AllowAny]

        def get(self, request):
            return Response({"ok": True})

    urlpatterns = [path("api/bench/minimal", MinimalView.as_view()), *config.urls.urlpatterns]


def fill(products: int) -> None:
    """(Re)create the bench database with `products` products of 3 variants each."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    env = {**os.environ, **BENCH_ENV}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=BASE_DIR, env=env, check=True)
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}", autocommit=True) as db:
        db.execute(
            """INSERT INTO catalog_category (cj_category_id, name, created_at, updated_at)
               SELECT 'CAT-' || n, 'Category ' || n, now(), now() FROM generate_series(1, 50) n"""
        )
        db.execute(
            """
            INSERT INTO catalog_product (cj_pid, sku, name, description, images, category_id, status,
                has_staff_name, has_staff_description, cj_price_low, cj_price_high, min_price, max_price,
                currency, is_in_stock, consecutive_misses, created_at, updated_at)
            SELECT 'P' || n, 'SKU' || n, 'Product ' || md5(n::text), '<p>Description</p>',
                   jsonb_build_array('https://img.example.test/' || n || '.jpg'),
                   (SELECT id FROM catalog_category ORDER BY id OFFSET (n %% 50) LIMIT 1), 'active', false, false,
                   (n %% 90) + 1, (n %% 90) + 3, (n %% 90) * 2 + 3.90, (n %% 90) * 2 + 7.90, 'USD', n %% 7 <> 0, 0,
                   now(), now()
              FROM generate_series(1, %s) n
            """,
            [products],
        )
        db.execute(
            """
            INSERT INTO catalog_variant (cj_vid, product_id, sku, name, option_values, image, supplier_cost, price,
                currency, stock, cj_stock, weight_grams, status, created_at, updated_at)
            SELECT p.cj_pid || '-' || v, p.id, p.sku || '-' || v, p.name || ' ' || v, '["Black", "M"]'::jsonb, '',
                   p.cj_price_low + v, p.min_price + (v - 1) * 2, 'USD', CASE WHEN p.is_in_stock THEN 10 ELSE 0 END,
                   CASE WHEN p.is_in_stock THEN 10 ELSE 0 END, 120, 'active', now(), now()
              FROM catalog_product p, generate_series(1, 3) v
            """
        )
        db.execute("VACUUM ANALYZE")


def shrink(products: int) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}", autocommit=True) as db:
        db.execute("DELETE FROM catalog_variant WHERE product_id > %s", [products])
        db.execute("DELETE FROM catalog_product WHERE id > %s", [products])
        db.execute("VACUUM ANALYZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(*, workers: int, cached: bool) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, **BENCH_ENV, "BENCH_SERVE": "1"}
    if not cached:
        env["BENCH_NO_PRODUCTS_CACHE"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bench.products_api:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(port, "/api/bench/minimal") == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def measure(port: int, path: str, *, seconds: float, threads: int = 4) -> tuple[float, float]:
    """Requests/s and mean latency (ms) of `path` with `threads` concurrent clients."""
    for _ in range(5):  # warm up (and fill the cache when there is one)
        assert get(port, path) == 200, path
    counts, latencies, errors = [0] * threads, [0.0] * threads, []
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            status = get(port, path)
            latencies[index] += time.perf_counter() - started
            counts[index] += 1
            if status != 200:
                errors.append(status)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise RuntimeError(f"{len(errors)} non-200 answers on {path}: {set(errors)}")
    total = sum(counts)
    return total / (time.monotonic() - started), sum(latencies) / total * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    # bench/ is sys.path[0] when run as a script (gunicorn imports this module as bench.products_api).
    from figures import figure

    started = time.monotonic()
    fill(args.products)
    print(f"filled {args.products:,} products / {args.products * 3:,} variants in {time.monotonic() - started:.1f}s")
    list_path = "/api/products?limit=50"
    cached_server, cached_port = serve(workers=args.workers, cached=True)
    plain_server, plain_port = serve(workers=args.workers, cached=False)
    try:
        minimal, minimal_ms = measure(cached_port, "/api/bench/minimal", seconds=args.seconds)
        cached, cached_ms = measure(cached_port, list_path, seconds=args.seconds)
        uncached, uncached_ms = measure(plain_port, list_path, seconds=args.seconds)
        priced, priced_ms = measure(
            plain_port, "/api/products?limit=50&ordering=price&in_stock=true", seconds=args.seconds
        )
        shrink(args.small)
        small, small_ms = measure(plain_port, list_path, seconds=args.seconds)
    finally:
        for server in (cached_server, plain_server):
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=10)
    print(f"gunicorn sync workers: {args.workers}; 4 client threads; {args.seconds:.0f}s per figure")
    name = "products_api.py"
    figure(name, "minimal JSON view", f"{minimal:,.0f} req/s, {minimal_ms:.2f} ms")
    figure(name, "list cached (50 items)", f"{cached:,.0f} req/s, {cached_ms:.2f} ms = {cached / minimal:.2f}x minimal",
           ">= 0.7x", cached / minimal >= 0.7)  # fmt: skip
    figure(name, "list uncached (50 items)",
           f"{uncached:,.0f} req/s, {uncached_ms:.2f} ms = {uncached / minimal:.2f}x minimal",
           ">= 0.2x", uncached / minimal >= 0.2)  # fmt: skip
    priced_value = f"{priced:,.0f} req/s, {priced_ms:.2f} ms = {priced / minimal:.2f}x minimal"
    figure(name, "list uncached, price order + in stock", priced_value)
    figure(name, f"list uncached at {args.small:,} products", f"{small:,.0f} req/s, {small_ms:.2f} ms")
    figure(name, f"latency at {args.products:,} vs {args.small:,} products", f"{uncached_ms / small_ms:.2f}x",
           "<= 1.5x", uncached_ms / small_ms <= 1.5)  # fmt: skip


if __name__ == "__main__":
    main()
