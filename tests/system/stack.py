"""The whole system as real processes, for the drills: its own Redis server (so a drill can stop
it), its own database, the CJ simulator, gunicorn and RQ workers, all on loopback.

Used by tests/system/test_drills.py through the `stack` fixture.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import requests

BASE_DIR = Path(__file__).resolve().parents[2]
DB_NAME = "system_dropship"
QUEUES = ("sync-products", "create-order", "process-webhook", "update-stock")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], Any], what: str, timeout: float = 30, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (OSError, requests.RequestException, psycopg.Error) as error:
            last_error = error
        time.sleep(interval)
    raise AssertionError(f"{what} did not happen within {timeout} s (last error: {last_error})")


class Stack:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.redis_port = free_port()
        self.sim_port = free_port()
        self.web_port = free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.sim_url = f"http://127.0.0.1:{self.sim_port}"
        self.redis: subprocess.Popen | None = None
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "system-tests-only-not-a-secret",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "REDIS_CACHE_URL": f"redis://127.0.0.1:{self.redis_port}/1",
            "CJ_API_BASE": f"{self.sim_url}/api2.0/v1/",
            "CJ_API_KEY": "SIMULATOR-DEMO-KEY",
            "CJ_OPEN_ID": "1234567890",
            "CJ_QPS": "20",
            "CJ_READ_TIMEOUT": "2",
            "CJ_PAY_TYPE": "2",
            "CJ_WEBHOOK_URL": f"{self.web_url}/api/webhooks/cj",
            "RQ_RETRY_INTERVALS": "1,2,4",
            "ORDERS_STUCK_AFTER_SECONDS": "5",
            "WEBHOOKS_SWEEP_AFTER_SECONDS": "1",
            "THROTTLE_ANON_RATE": "10000/min",
            "THROTTLE_ORDERS_RATE": "10000/min",
            "THROTTLE_QUOTES_RATE": "10000/min",
            "LOG_LEVEL": "WARNING",
        }

    # --- processes ------------------------------------------------------------------------------
    def _spawn(self, name: str, *command: str) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            list(command), cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def manage(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def start(self) -> None:
        self.start_redis()
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{DB_NAME}"')
        self.manage("migrate", "-v", "0")
        self._spawn("simulator", sys.executable, "manage.py", "cj_simulator", "--port", str(self.sim_port),
                    "--products", "12", "--qps", "20")  # fmt: skip
        wait_until(lambda: requests.get(f"{self.sim_url}/_sim/info", timeout=1).ok, "the simulator")
        requests.post(f"{self.sim_url}/_sim/reset", json={"products": 12, "qps": 20, "insecure_webhooks": True,
                      "webhook_retry_delay": 1}, timeout=5).raise_for_status()  # fmt: skip
        self._spawn("web", sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.web_port}",
                    "--workers", "2", "--timeout", "30")  # fmt: skip
        wait_until(lambda: requests.get(f"{self.web_url}/health", timeout=3).status_code in (200, 503), "gunicorn")
        self.start_worker("worker-1")

    def start_worker(self, name: str) -> subprocess.Popen:
        return self._spawn(name, sys.executable, "manage.py", "rqworker", *QUEUES, "--with-scheduler")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no"],
            stdout=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_until(lambda: socket.create_connection(("127.0.0.1", self.redis_port), timeout=1), "redis")

    def stop_redis(self) -> None:
        assert self.redis is not None
        self.redis.terminate()
        self.redis.wait(timeout=10)
        self.redis = None

    def stop(self) -> None:
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)
        if self.redis is not None:
            self.stop_redis()

    # --- helpers --------------------------------------------------------------------------------
    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}", autocommit=True) as db:
            cursor = db.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def sim(self, method: str, path: str, body: dict | None = None) -> Any:
        response = requests.request(method, f"{self.sim_url}/_sim/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.web_url}{path}", timeout=30, **kwargs)
