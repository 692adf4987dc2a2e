"""One CJ day of points, played on the simulator's clock: does the plan keep the shop selling?

The day: N listed products (2,000, about 10,000 variants), 50,000 points, 300 freight quotes and
100 orders spread over the day (70 % of the quotes on 100 popular products; each order follows one
of the quotes by 2-60 minutes), STOCK webhooks for a tenth of the variants. Every CJ call goes over
HTTP to the simulator, which charges CJ's points; the shop's own code decides: the freight cache
per route and weight class (orders/freight.py), the stock plan (catalog/stock_plan.py) every
5 minutes, the points plan (integrations/cj/budget.py). Goals: 0 quotes or orders refused for
points; points spent <= 50,000; the ordered variant's stock figure at most 2 h old (p95).

The baseline, measured in the same run on the same events: the schedule before the plan (every
product's stock every 30 minutes, no reserve). Then the plan again at 10,000 products.

    .venv/bin/python bench/points_day.py [--products 2000] [--large 10000] [--seed 7]

Uses its own database (`BENCH_POINTS_DATABASE_NAME`, default `bench_points`), Redis databases
`BENCH_REDIS_URL` / `BENCH_REDIS_CACHE_URL` (default 6379/10 and /11, flushed), and a simulator on
`BENCH_SIM_PORT` (default: a free port).
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from figures import figure  # noqa: E402 - bench/ is sys.path[0] when run as a script

DB_NAME = os.environ.get("BENCH_POINTS_DATABASE_NAME", "bench_points")
DAY = 24 * 3600
TICK = 300
DAILY_POINTS = 50_000
ROUTES = [("US", "78701"), ("US", "10001"), ("DE", "10115"), ("GB", "SW1A1AA"), ("FR", "75001"), ("CA", "M5V2T6")]
ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"),
    "REDIS_CACHE_URL": os.environ.get("BENCH_REDIS_CACHE_URL", "redis://127.0.0.1:6379/11"),
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "LOG_LEVEL": "CRITICAL",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "CJ_QPS": "1000",
    "CJ_API_KEY": "SIMULATOR-DEMO-KEY",
    "CJ_OPEN_ID": "1234567890",
    "CJ_DAILY_POINTS": str(DAILY_POINTS),
    "CATALOG_STOCK_REFRESH_MINUTES": str(TICK // 60),
}


class SimClock:
    """The simulator's clock for the shop's code too: `timezone.now()` of the modules that stamp clocks."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment


@dataclass
class DayResult:
    label: str
    products: int
    variants: int
    quotes_refused: int = 0
    orders_refused: int = 0
    orders_placed: int = 0
    points_client: int = 0
    points_cj: int = 0
    by_purpose: dict[str, int] = field(default_factory=dict)
    ages: list[float] = field(default_factory=list)  # minutes, at each order
    catalogue_ages: list[float] = field(default_factory=list)  # hours, every variant at the day's end
    exhausted_at: str = ""
    seconds: float = 0.0

    def p95(self) -> float:
        return statistics.quantiles(self.ages, n=20)[-1] if len(self.ages) >= 2 else float("nan")

    def catalogue(self) -> str:
        """The whole catalogue's stock age at the day's end: median and p95, in hours."""
        if len(self.catalogue_ages) < 2:
            return "n/a"
        p95 = statistics.quantiles(self.catalogue_ages, n=20)[-1]
        return f"median {statistics.median(self.catalogue_ages):.1f} h, p95 {p95:.1f} h"


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=BASE_DIR, env={**os.environ, **ENV}, check=True
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_simulator(port: int, products: int) -> subprocess.Popen:
    import requests

    process = subprocess.Popen(
        [sys.executable, "manage.py", "cj_simulator", "--port", str(port), "--products", str(products)],
        cwd=BASE_DIR, env={**os.environ, **ENV}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/_sim/info", timeout=1)
            return process
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the CJ simulator did not start")


def _seed_shop(
    listing: list[dict], *, day_start: datetime, rng: random.Random, popular: set[str]
) -> dict[str, datetime]:
    """The shop's products and variants as yesterday left them; returns when each vid's stock was read."""
    from catalog.models import Product, Variant

    products = []
    for row in listing:
        checked = day_start - timedelta(seconds=rng.uniform(0, 12 * 3600))
        demand = day_start - timedelta(hours=rng.uniform(1, 20)) if row["pid"] in popular else None
        products.append(
            Product(cj_pid=row["pid"], name=row["name"], stock_checked_at=checked, demand_at=demand, is_in_stock=True)
        )
    created = {product.cj_pid: product for product in Product.objects.bulk_create(products, batch_size=2000)}
    variants, last_read = [], {}
    for row in listing:
        product = created[row["pid"]]
        for item in row["variants"]:
            cost = Decimal(item["price"])
            variants.append(
                Variant(
                    product=product,
                    cj_vid=item["vid"],
                    sku=item["sku"],
                    supplier_cost=cost,
                    price=cost * 2,
                    stock=max(int(item["stock"]), 50),
                    stock_updated_at=product.stock_checked_at,
                    weight_grams=Decimal(item["weight"]),
                )
            )
            last_read[item["vid"]] = product.stock_checked_at
    Variant.objects.bulk_create(variants, batch_size=5000)
    return last_read


def _events(listing: list[dict], *, rng: random.Random, popular: list[str]) -> list[tuple[float, str, dict]]:
    """The day's quotes, orders (each after one of the quotes) and STOCK webhooks, by time."""
    by_pid = {row["pid"]: row for row in listing}
    pids = list(by_pid)
    quotes = []
    for _ in range(300):
        pid = rng.choice(popular) if rng.random() < 0.7 else rng.choice(pids)
        country, zip_code = rng.choice(ROUTES)
        item = rng.choice(by_pid[pid]["variants"])
        quotes.append(
            (rng.uniform(60, DAY - 3700), "quote", {"vid": item["vid"], "country": country, "zip": zip_code, "qty": 1})
        )
    orders = [(at + rng.uniform(120, 3600), "order", dict(body)) for at, _kind, body in rng.sample(quotes, 100)]
    all_vids = [item["vid"] for row in listing for item in row["variants"]]
    webhooks = [
        (rng.uniform(0, DAY - 1), "stock", {"vid": vid, "stock": rng.randint(0, 200)})
        for vid in rng.sample(all_vids, len(all_vids) // 10)
    ]
    return sorted(quotes + orders + webhooks, key=lambda event: event[0])


def play_day(*, control: str, products: int, seed: int, planned: bool, clock: SimClock) -> DayResult:
    """Reset everything, seed the shop with the simulator's catalogue, play the day; return its figures."""
    import redis
    import requests
    from django.conf import settings

    from catalog.models import Product, SyncRun, Variant
    from catalog.stock_plan import stock_refresh_due
    from catalog.sync.stock import variants_stock_refresh
    from integrations.cj.client import get_client
    from integrations.cj.errors import CJQuotaExceededError
    from integrations.cj.points import CJPurpose, cj_purpose, next_reset
    from orders import services
    from orders.errors import ShippingUnavailable
    from orders.forwarding import order_forward_to_cj
    from orders.freight import freight_quote
    from orders.models import Order
    from webhooks import dispatch
    from webhooks.models import WebhookEvent

    started = time.monotonic()
    session = requests.Session()
    reset = {"products": products, "qps": 1000, "daily_points": DAILY_POINTS, "insecure_webhooks": True}
    session.post(control + "reset", json=reset, timeout=120).raise_for_status()
    for url in (settings.REDIS_URL, os.environ["REDIS_CACHE_URL"]):
        redis.Redis.from_url(url).flushdb()
    settings.CJ_BUDGET_RESERVE_POINTS = 5_000 if planned else 0
    settings.CJ_POINTS_GIVE_UP_MARGIN = 5_000 if planned else 0
    Order.objects.all().delete()
    SyncRun.objects.all().delete()
    Variant.objects.all().delete()
    Product.objects.all().delete()
    sim_now = datetime.fromisoformat(session.get(control + "stats", timeout=10).json()["clock"])
    day_start = next_reset(sim_now)
    session.post(control + "clock", json={"advance_seconds": (day_start - sim_now).total_seconds()}, timeout=10)
    clock.moment = day_start

    rng = random.Random(seed)
    listing = session.get(control + "catalog", timeout=120).json()["products"]
    popular = rng.sample([row["pid"] for row in listing], 100)
    last_read = _seed_shop(listing, day_start=day_start, rng=rng, popular=set(popular))
    result = DayResult("plan" if planned else "baseline", len(listing), len(last_read))
    variants = {variant.cj_vid: variant for variant in Variant.objects.all()}
    events = _events(listing, rng=rng, popular=popular)
    vids_of = {row["pid"]: [item["vid"] for item in row["variants"]] for row in listing}
    address = services.ShippingAddress(line1="1 Main St", city="Austin", province="TX", zip="", country_code="US")
    client = get_client()
    index = 0
    for tick_start in range(0, DAY, TICK):
        if tick_start:
            session.post(control + "clock", json={"advance_seconds": TICK}, timeout=10)
        while index < len(events) and events[index][0] < tick_start + TICK:
            at, kind, body = events[index]
            index += 1
            clock.moment = day_start + timedelta(seconds=at)
            variant = variants[body.get("vid", "")]
            if kind == "stock":
                event = WebhookEvent(
                    topic="STOCK",
                    message_id=f"bench-{index}",
                    params={body["vid"]: [{"vid": body["vid"], "storageNum": body["stock"], "countryCode": "CN"}]},
                    received_at=clock.moment,
                )
                dispatch.handle_stock(event)
                last_read[body["vid"]] = clock.moment
                continue
            lines = [(variant, body["qty"])]
            try:
                options = freight_quote(country_code=body["country"], zip=body["zip"], lines=lines)
            except ShippingUnavailable:
                if kind == "quote":
                    result.quotes_refused += 1
                else:
                    result.orders_refused += 1
                continue
            if kind == "order":
                result.ages.append((clock.moment - last_read[body["vid"]]).total_seconds() / 60)
                order, _ = services.order_place(
                    email=f"buyer{index}@example.com",
                    name="Bench Buyer",
                    phone="",
                    address=replace(address, country_code=body["country"], zip=body["zip"]),
                    lines=[services.OrderLineInput(variant_id=variant.pk, quantity=body["qty"])],
                    logistic_name=options[0].logistic_name,
                    shipping_total=options[0].total_price,
                )
                placed = order_forward_to_cj(order_id=order.pk)
                result.orders_placed += placed is not None and placed.status == Order.Status.PLACED
        clock.moment = day_start + timedelta(seconds=tick_start + TICK - 1)
        every_30_minutes = list(vids_of) if tick_start % 1800 == 0 else []  # the baseline's schedule
        pids = stock_refresh_due(now=clock.moment) if planned else every_30_minutes
        if pids:
            ids = list(Variant.objects.filter(product__cj_pid__in=pids).values_list("pk", flat=True))
            try:
                with cj_purpose(CJPurpose.STOCK):
                    variants_stock_refresh(variant_ids=ids, trigger=SyncRun.Trigger.SCHEDULER)
            except CJQuotaExceededError:
                pass
            read = Product.objects.filter(cj_pid__in=pids, stock_checked_at=clock.moment).values_list(
                "cj_pid", flat=True
            )
            for pid in read:
                for vid in vids_of[pid]:
                    last_read[vid] = clock.moment
        if not result.exhausted_at and client.budget.status().points_remaining < 10:
            result.exhausted_at = clock.moment.strftime("%H:%M")
    result.catalogue_ages = [(clock.moment - read).total_seconds() / 3600 for read in last_read.values()]
    status = client.budget.status()
    result.points_client = status.points_used
    result.by_purpose = status.points_by_purpose
    result.points_cj = session.get(control + "stats", timeout=10).json()["points"]["used"]
    result.seconds = time.monotonic() - started
    return result


def report(result: DayResult) -> None:
    purposes = ", ".join(f"{name} {points:,}" for name, points in result.by_purpose.items())
    print(
        f"{result.label}, {result.products:,} products ({result.variants:,} variants): "
        f"quotes refused {result.quotes_refused}, orders refused {result.orders_refused}, "
        f"placed {result.orders_placed}; "
        f"points CJ {result.points_cj:,} / ours {result.points_client:,} ({purposes}); stock age at order "
        f"p95 {result.p95():.0f} min, median {statistics.median(result.ages) if result.ages else float('nan'):.0f} min"
        f"; whole catalogue at the day's end: {result.catalogue()}"
        f"{'; points gone at ' + result.exhausted_at if result.exhausted_at else ''}; played in {result.seconds:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--large", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    recreate_database()
    os.environ.update(ENV)
    port = int(os.environ.get("BENCH_SIM_PORT") or free_port())
    os.environ["CJ_API_BASE"] = f"http://127.0.0.1:{port}/api2.0/v1/"
    import django

    django.setup()
    import types

    import catalog.stock_plan
    import catalog.sync.stock

    clock = SimClock()
    shim = types.SimpleNamespace(now=clock.now)
    catalog.stock_plan.timezone = shim  # type: ignore[assignment] - the shop's clocks follow the simulator's
    catalog.sync.stock.timezone = shim  # type: ignore[assignment]
    simulator = start_simulator(port, args.products)
    control = f"http://127.0.0.1:{port}/_sim/"
    try:
        if os.environ.get("BENCH_POINTS_PROFILE"):
            import cProfile

            cProfile.runctx(
                "play_day(control=control, products=args.products, seed=args.seed, planned=True, clock=clock)",
                globals(), locals(), sort="cumulative",
            )  # fmt: skip
            return
        baseline = play_day(control=control, products=args.products, seed=args.seed, planned=False, clock=clock)
        report(baseline)
        plan = play_day(control=control, products=args.products, seed=args.seed, planned=True, clock=clock)
        report(plan)
        large = play_day(control=control, products=args.large, seed=args.seed, planned=True, clock=clock)
        report(large)
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    name = "points_day.py"
    n = f"{plan.products:,} products"
    refused = plan.quotes_refused + plan.orders_refused
    figure(name, f"{n}: quotes / orders refused for points",
           f"{plan.quotes_refused} / {plan.orders_refused} (baseline: every product every 30 min, no reserve: "
           f"{baseline.quotes_refused} / {baseline.orders_refused}, points gone at {baseline.exhausted_at or 'never'})",
           "0 / 0", refused == 0)  # fmt: skip
    spent_ok = plan.points_cj <= DAILY_POINTS and plan.points_cj == plan.points_client
    figure(name, f"{n}: points spent (CJ's count; ours)",
           f"{plan.points_cj:,} ({plan.points_client:,}); baseline {baseline.points_cj:,}",
           "<= 50,000, both counts equal", spent_ok)  # fmt: skip
    ratio = plan.p95() / baseline.p95() if baseline.p95() else float("nan")
    figure(name, f"{n}: stock age at each order, p95",
           f"{plan.p95():.0f} min (baseline {baseline.p95():.0f} min: {ratio:.2f}x)", "<= 120 min",
           plan.p95() <= 120)  # fmt: skip
    figure(name, f"{n}: points per purpose", ", ".join(f"{k} {v:,}" for k, v in plan.by_purpose.items()))
    figure(name, f"{n}: whole catalogue's stock age at the day's end",
           f"{plan.catalogue()} (baseline {baseline.catalogue()})")  # fmt: skip
    figure(name, f"{large.products:,} products, same budget: stock age at each order, p95",
           f"{large.p95():.0f} min (median {statistics.median(large.ages):.0f} min); refused "
           f"{large.quotes_refused + large.orders_refused}; points {large.points_cj:,}")  # fmt: skip
    figure(name, f"{large.products:,} products, same budget: whole catalogue's stock age at the day's end",
           large.catalogue())  # fmt: skip


if __name__ == "__main__":
    main()
