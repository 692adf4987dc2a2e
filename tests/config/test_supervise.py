"""config/supervise.py, the wrapper under each `make run` process: a dead process is started again
with one line saying why, a configuration error is not retried, one-shot work is retried until it
succeeds, and what a dead process left in its group is killed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _supervise(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "config.supervise", *args], cwd=ROOT, stderr=subprocess.PIPE, text=True
    )


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    return stderr


def test_a_killed_process_is_restarted_with_one_line(tmp_path):
    pids = tmp_path / "pids"
    process = _supervise("sleeper", "--", "sh", "-c", f"echo $$ >> {pids}; exec sleep 60")
    deadline = time.monotonic() + 10
    while not (pids.exists() and pids.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    first = int(pids.read_text().split()[0])

    os.kill(first, signal.SIGKILL)
    while len(pids.read_text().split()) < 2 and time.monotonic() < deadline + 5:
        time.sleep(0.05)
    stderr = _stop(process)

    assert len(pids.read_text().split()) == 2
    assert stderr.splitlines()[0].startswith("supervise: sleeper exited with status -9 (SIGKILL) after 0 s;")
    assert stderr.splitlines()[0].endswith("restarting in 1 s (restart 1)")
    assert process.returncode == 0


def test_a_configuration_error_is_not_retried():
    process = _supervise("web", "--", "sh", "-c", "exit 2")
    _, stderr = process.communicate(timeout=20)

    assert process.returncode == 2
    assert stderr == "supervise: web exited with status 2 (configuration error): not restarted\n"


def test_one_shot_work_is_retried_until_it_succeeds_then_idles(tmp_path):
    tries = tmp_path / "tries"
    script = f"echo x >> {tries}; test $(wc -l < {tries}) -ge 2"
    process = _supervise("register", "--until-success", "--", "sh", "-c", script)
    deadline = time.monotonic() + 15
    while not (tries.exists() and len(tries.read_text().split()) >= 2) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)

    assert process.poll() is None  # idles: honcho would otherwise stop the whole stack
    stderr = _stop(process)
    assert len(tries.read_text().split()) == 2
    lines = stderr.splitlines()
    assert lines[0].startswith("supervise: register exited with status 1 after 0 s; restarting in 1 s")
    assert lines[1].startswith("supervise: register done after")


def test_what_a_dead_process_left_in_its_group_is_killed(tmp_path):
    orphan = tmp_path / "orphan"
    # the command starts a child in its own group and dies: the child must not outlive it
    process = _supervise("worker", "--max-restarts", "0", "--", "sh", "-c", f"sleep 60 & echo $! > {orphan}; exit 3")
    _, stderr = process.communicate(timeout=20)
    child = int(orphan.read_text())

    assert process.returncode == 1
    assert stderr == "supervise: worker exited with status 3, 1 times in 300 s: giving up\n"
    time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]
