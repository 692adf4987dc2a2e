"""`make run` as a newcomer runs it (honcho, every process under config/supervise.py, the CJ
simulator): a killed worker is replaced, its work horse does not outlive it, and the rest of the
stack keeps serving."""

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import requests

from tests.system.stack import BASE_DIR, _descendants, free_port, wait_until

pytestmark = pytest.mark.system


def _cmdline(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    return []


def _gone(pid: int) -> bool:
    """Ended (a zombie waiting for a reaper counts: it runs nothing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _parent(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return 0


def _worker_pids(root: int) -> list[int]:
    """The orders/webhooks worker processes under `make run`: started by their supervisor (not the
    supervisor itself, nor the worker's forks, RQ's scheduler and work horses)."""
    return [
        pid
        for pid in _descendants(root)
        if "rqworker" in (words := _cmdline(pid))
        and "create-order" in words
        and "config.supervise" not in words
        and "config.supervise" in _cmdline(_parent(pid))
    ]


@pytest.fixture
def make_run(tmp_path) -> Iterator[tuple[subprocess.Popen, str, Path]]:
    database = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dropship"))
    name = f"{database.path.lstrip('/') or 'dropship'}_makerun"
    web_port, sim_port = free_port(), free_port()
    env = {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_DEBUG"},
        "DATABASE_URL": urlunsplit(database._replace(path=f"/{name}")),
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "REDIS_CACHE_URL": os.environ.get("TEST_REDIS_CACHE_URL", "redis://127.0.0.1:6379/15"),
        "WEB_PORT": str(web_port),
        "CJ_SIMULATOR_PORT": str(sim_port),
        "CJ_API_KEY": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "WORKER_HEARTBEAT_SECONDS": "2",
    }
    log = tmp_path / "make-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", "run"], cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process, f"http://127.0.0.1:{web_port}", log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        admin = urlunsplit(database._replace(path="/postgres"))
        with contextlib.suppress(psycopg.Error), psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_killed_worker_under_make_run_is_replaced(make_run):
    process, web_url, log = make_run

    def health() -> dict:
        return requests.get(f"{web_url}/health", timeout=5).json()

    wait_until(lambda: health()["components"]["queues"]["status"] == "ok", "make run up with its workers", timeout=180)
    [worker] = wait_until(lambda: _worker_pids(process.pid), "the orders worker")
    horses_before = set(_descendants(worker))

    os.kill(worker, signal.SIGKILL)
    replaced = wait_until(
        lambda: [pid for pid in _worker_pids(process.pid) if pid != worker], "a new worker", timeout=30
    )

    assert len(replaced) == 1
    assert process.poll() is None  # the stack did not stop
    wait_until(
        lambda: health()["components"]["queues"]["queues"]["create-order"]["alive"] >= 1, "the new worker alive", 30
    )
    assert requests.get(f"{web_url}/api/products", timeout=5).status_code == 200
    wait_until(lambda: all(_gone(pid) for pid in horses_before), "the old worker's children gone", timeout=10)
    assert "supervise: worker exited with status -9 (SIGKILL)" in log.read_text()
