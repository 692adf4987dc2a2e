"""Several processes share one token and one rate limit (Redis), measured by the simulator."""

import multiprocessing
import os

import pytest
from django.db import connections

from integrations.cj.client import get_client

VID = "2408300610371613201"


def _forget_parent_sessions() -> None:
    """A forked child must not use (nor end) the parent's PostgreSQL session: its copy of the
    socket becomes /dev/null before the wrapper lets go; the child connects on its own (CJ's
    token pair is kept in PostgreSQL)."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, connection.connection.fileno())
            os.close(devnull)
            connection.close()


def _worker(barrier, calls: int, results) -> None:
    _forget_parent_sessions()
    barrier.wait(timeout=10)
    try:
        client = get_client()
        for _ in range(calls):
            client.get_stock_by_vid(vid=VID)
        results.put("ok")
    except Exception as error:  # reported to the test, which fails on it
        results.put(f"{type(error).__name__}: {error}")


def _run_processes(count: int, calls: int) -> list[str]:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(count)
    results = context.Queue()
    processes = [context.Process(target=_worker, args=(barrier, calls, results)) for _ in range(count)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=10)
    return outcomes


@pytest.mark.system
@pytest.mark.django_db(transaction=True)
def test_four_processes_starting_at_once_log_in_once(cj_simulator):
    outcomes = _run_processes(4, 1)

    stats = cj_simulator.stats()
    assert outcomes == ["ok"] * 4
    assert stats["get_access_token"] == 1
    assert stats["calls"] == {"authentication/getAccessToken": 1, "product/stock/queryByVid": 4}


@pytest.mark.system
@pytest.mark.django_db(transaction=True)
def test_four_workers_together_stay_under_the_account_qps(cj_simulator, settings):
    cj_simulator.reset(qps=5)
    settings.CJ_QPS = 5

    outcomes = _run_processes(4, 5)

    stats = cj_simulator.stats()
    assert outcomes == ["ok"] * 4
    assert stats["calls"]["product/stock/queryByVid"] == 20
    assert stats["throttled"] == 0
    assert stats["max_qps"] <= 5
