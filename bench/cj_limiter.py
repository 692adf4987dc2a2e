"""Benchmark of the shared CJ rate limiter: 4 processes read from the simulator at CJ_QPS=5 for 30 s.

Prints achieved QPS / configured QPS (goal >= 0.9) and the number of 1600200 answers (goal 0), as
counted by the simulator. Uses REDIS_URL (keys under a prefix unique to this run, removed at the end).

    python bench/cj_limiter.py [--seconds 30] [--qps 5] [--processes 4]
"""

import argparse
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from figures import figure

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reader(barrier, deadline_in: float, results) -> None:
    from integrations.cj.client import get_client
    from integrations.cj.errors import CJRateLimitedError

    client = get_client()
    barrier.wait(timeout=30)
    deadline = time.monotonic() + deadline_in
    ok = throttled = 0
    vids = ["2408300610371613201", "2408300610371613202"]
    while time.monotonic() < deadline:
        try:
            client.get_stock_by_vid(vid=vids[ok % 2])
            ok += 1
        except CJRateLimitedError:
            throttled += 1
    results.put((ok, throttled))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--qps", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=4)
    options = parser.parse_args()

    port = _free_port()
    root = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DJANGO_DEBUG": "true", "LOG_LEVEL": "WARNING"}
    simulator = subprocess.Popen(
        [sys.executable, "manage.py", "cj_simulator", "--port", str(port), "--qps", str(options.qps)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                requests.get(f"{root}/_sim/info", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DJANGO_DEBUG": "true",
                "LOG_LEVEL": "WARNING",
                "CJ_API_BASE": f"{root}/api2.0/v1/",
                "CJ_API_KEY": "SIMULATOR-DEMO-KEY",
                "CJ_QPS": str(options.qps),
                "CJ_RETRY_ATTEMPTS": "1",
            }
        )
        import django

        django.setup()
        import redis
        from django.conf import settings

        from integrations.cj.client import ClientConfig

        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(options.processes)
        results = context.Queue()
        workers = [
            context.Process(target=_reader, args=(barrier, options.seconds, results)) for _ in range(options.processes)
        ]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=options.seconds + 60) for _ in workers]
        elapsed = time.monotonic() - started
        for worker in workers:
            worker.join(timeout=10)
        stats = requests.get(f"{root}/_sim/stats", timeout=5).json()
        reads = stats["calls"].get("product/stock/queryByVid", 0)
        achieved = reads / elapsed
        print(f"processes: {options.processes}, duration: {elapsed:.2f} s, configured CJ_QPS: {options.qps:g}")
        print(f"reads answered: {sum(ok for ok, _ in outcomes)} (simulator received {reads})")
        print(f"achieved QPS: {achieved:.2f}  ratio achieved/configured: {achieved / options.qps:.3f} (goal >= 0.9)")
        print(f"1600200 answers: {stats['throttled']} (client saw {sum(t for _, t in outcomes)}) (goal 0)")
        print(f"max QPS observed by the simulator in any 1 s window: {stats['max_qps']}")
        ratio = achieved / options.qps
        figure("cj_limiter.py", f"{options.processes} processes at CJ_QPS={options.qps:g}: achieved / configured",
               f"{achieved:.2f} QPS = {ratio:.3f}", ">= 0.9", ratio >= 0.9)  # fmt: skip
        figure("cj_limiter.py", "throttled answers (1600200)", str(stats["throttled"]), "0", stats["throttled"] == 0)
        connection = redis.Redis.from_url(settings.REDIS_URL)
        prefix = ClientConfig.from_settings().account_key
        keys = list(connection.scan_iter(f"{prefix}:*"))
        if keys:
            connection.delete(*keys)
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)


if __name__ == "__main__":
    main()
