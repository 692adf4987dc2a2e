"""The whole system as real processes, for the drills: its own PostgreSQL cluster and Redis server
(so a drill can stop them without touching the machine's shared ones), the CJ simulator, gunicorn,
RQ workers and the RQ cron scheduler (config/cron.py), all on loopback.

Used by tests/system/test_drills.py through the `stack` fixture.
"""

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import requests

BASE_DIR = Path(__file__).resolve().parents[2]
DB_NAME = "system_dropship"
QUEUES = ("sync-products", "create-order", "process-webhook", "update-stock")
PG_BIN = Path(os.environ.get("SYSTEM_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


_ports_given: set[int] = set()


def free_port() -> int:
    """A free loopback port; from `SYSTEM_TEST_PORTS` (e.g. `8120-8129`) when set, so parallel
    runs on one machine keep to their own ranges."""
    span = os.environ.get("SYSTEM_TEST_PORTS")
    candidates = [0]
    if span:
        low, high = (int(part) for part in span.split("-"))
        candidates = [port for port in range(low, high + 1) if port not in _ports_given]
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            _ports_given.add(sock.getsockname()[1])
            return sock.getsockname()[1]
    raise RuntimeError(f"no free port in SYSTEM_TEST_PORTS={span}")


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


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class PostgresCluster:
    """A throw-away PostgreSQL cluster (initdb + pg_ctl) on a free loopback port, trust auth.

    initdb refuses to run as root, so as root the cluster belongs to the `postgres` user, in a
    directory of its own outside pytest's root-only tmp dir."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="system-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str, timeout: float = 60) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=timeout)

    def init(self) -> None:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=100"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


class Stack:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.postgres = PostgresCluster()
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
            "DATABASE_URL": self.postgres.url(DB_NAME).replace("postgresql://", "postgres://"),
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "REDIS_CACHE_URL": f"redis://127.0.0.1:{self.redis_port}/1",
            "CJ_API_BASE": f"{self.sim_url}/api2.0/v1/",
            "CJ_API_KEY": "SIMULATOR-DEMO-KEY",
            "CJ_OPEN_ID": "1234567890",
            "CJ_QPS": "20",
            "CJ_READ_TIMEOUT": "2",
            "CJ_PAY_TYPE": "2",
            "CJ_WEBHOOK_URL": f"{self.web_url}/api/webhooks/cj",
            "CATALOG_SYNC_PAGE_SIZE": "3",  # several pages, so a killed sync has a checkpoint to resume from
            "RQ_RETRY_INTERVALS": "1,2,4",
            "RQ_MAINTENANCE_INTERVAL": "5",
            "ORDERS_STUCK_AFTER_SECONDS": "5",
            "WEBHOOKS_SWEEP_AFTER_SECONDS": "1",
            "WEBHOOKS_SWEEP_INTERVAL_SECONDS": "5",
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
        self.postgres.init()
        self.postgres.start()
        with psycopg.connect(self.postgres.url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{DB_NAME}"')
        self.manage("migrate", "-v", "0")
        self._spawn("simulator", sys.executable, "manage.py", "cj_simulator", "--port", str(self.sim_port),
                    "--products", "12", "--qps", "20")  # fmt: skip
        wait_until(lambda: requests.get(f"{self.sim_url}/_sim/info", timeout=1).ok, "the simulator")
        # CJ_PAY_TYPE=2 pays every order from the CJ balance: enough of it for every drill's orders.
        requests.post(f"{self.sim_url}/_sim/reset", json={"products": 12, "qps": 20, "insecure_webhooks": True,
                      "webhook_retry_delay": 1, "balance": "100000.00"}, timeout=5).raise_for_status()  # fmt: skip
        self._spawn("web", sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.web_port}",
                    "--workers", "2", "--timeout", "30")  # fmt: skip
        wait_until(lambda: requests.get(f"{self.web_url}/health", timeout=3).status_code in (200, 503), "gunicorn")
        self.start_worker("worker-1")

    def _spawn_restarting(self, name: str, *command: str) -> subprocess.Popen:
        """Run a command again whenever it exits, as a process manager's restart policy would (Docker's
        `restart: unless-stopped`). Each restart
        leaves a line in restarts.log; killing the process group stops the loop too."""
        quoted = " ".join(f"'{part}'" for part in command)
        loop = f'while :; do {quoted}; echo "{name} exited with $?" >> "{self.workdir / "restarts.log"}"; sleep 1; done'
        return self._spawn(name, "sh", "-c", loop)

    def start_worker(self, name: str, *queues: str) -> subprocess.Popen:
        return self._spawn_restarting(name, sys.executable, "manage.py", "rqworker", *(queues or QUEUES),
                                      "--with-scheduler")  # fmt: skip

    def start_scheduler(self) -> subprocess.Popen:
        """The periodic jobs of config/cron.py (sweepers, incremental sync, stock refresh), as `make run`."""
        return self._spawn_restarting("scheduler", sys.executable, "manage.py", "scheduler")

    def restarts(self) -> list[str]:
        """Every exit of a process the stack had to restart."""
        path = self.workdir / "restarts.log"
        return path.read_text().splitlines() if path.exists() else []

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal a process's group; SIGKILL also reaches its descendants in groups of their own (an RQ
        work horse calls setpgrp), as a host crash or the OOM killer taking the whole worker would."""
        process = self.processes.pop(name)
        descendants = _descendants(process.pid) if sig == signal.SIGKILL else []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        for pid in descendants:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        # The group outlives its leader when a restart loop's shell dies first: wait for the whole
        # group (a warm shutdown finishing its job), then SIGKILL what is left of it.
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        deadline = time.monotonic() + 15
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)

    def start_redis(self) -> None:
        # Redis's default persistence (as the redis:7 image of docker-compose.yml): a stopped server
        # writes its snapshot and a restarted one reloads it, queues and CJ tokens included.
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
             "--appendonly", "no"],
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
        self.postgres.destroy()

    # --- helpers --------------------------------------------------------------------------------
    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.postgres.url(DB_NAME), autocommit=True, connect_timeout=3) as db:
            cursor = db.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def connect(self) -> psycopg.Connection:
        """A connection of the test's own to the stack's database (e.g. to hold row locks)."""
        return psycopg.connect(self.postgres.url(DB_NAME), connect_timeout=3)

    def sim(self, method: str, path: str, body: dict | None = None) -> Any:
        response = requests.request(method, f"{self.sim_url}/_sim/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return requests.request(method, f"{self.web_url}{path}", **kwargs)

    def cj_stock(self) -> dict[str, int]:
        """What CJ (the simulator) says each variant's stock is, summed over warehouses, read through
        the project's own client (shared token, rate limiter) exactly as the stock refresh reads it."""
        pids = self.sim("GET", "info")["pids"]
        code = (
            "import json\n"
            "from integrations.cj.client import get_client\n"
            "client = get_client()\n"
            f"stock = {{vid: sum(row.total for row in rows) for pid in {pids!r}"
            " for vid, rows in client.get_stock_by_pid(pid=pid).items()}\n"
            "print(json.dumps(stock))\n"
        )
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def dead_letters(self) -> list[str]:
        """The jobs in every queue's failed-job registry (the dead-letter queue), as `queue: description`."""
        import redis

        connection = redis.Redis(port=self.redis_port)
        return sorted(
            f"{queue}: {(connection.hget(f'rq:job:{job_id.decode()}', 'description') or b'?').decode()}"
            for queue in QUEUES
            for job_id in connection.zrange(f"rq:failed:{queue}", 0, -1)
        )
