"""`python -m config.supervise NAME [--until-success] -- COMMAND...`: run one process of `make run`
(a Procfile line), start it again when it dies, and say so in one line.

honcho (which runs the Procfile) stops the whole stack as soon as one process exits and never
restarts one; this thin wrapper sits under it, so the stack keeps running and a dead process is
replaced:

- the command runs in a process group of its own; when it exits, whatever it left in that group
  (RQ's scheduler process, a shell's children) is killed before the next start, so no work
  process outlives its worker (RQ's work horses, in groups of their own, die with their worker by
  PR_SET_PDEATHSIG, `config/worker.py`);
- each exit is one line on stderr: `supervise: worker exited with status -9 (SIGKILL) after 42 s;
  restarting in 1 s (restart 1)`; the delay doubles up to 30 s and starts again at 1 s after a
  minute of good running;
- a configuration error (status 2, or gunicorn's 4 "App failed to load") is not retried: the
  wrapper exits with it, and honcho stops the stack, the cause on the line above;
- more than `--max-restarts` (10) within 5 minutes: the wrapper gives up with one line and status 1;
- `--until-success` (one-shot work such as registering our webhooks with CJ, which refuses logins
  for 5 minutes): retried until it exits 0, then the wrapper idles until the stack stops;
- SIGTERM / SIGINT (Ctrl-C, honcho stopping) go to the command's group; what has not exited
  after 10 s is killed.

Standard library only: it never imports Django, so it starts (and restarts) in milliseconds.
"""

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time

NO_RESTART_STATUSES = {2: "configuration error", 4: "the application failed to load"}
GOOD_RUN_SECONDS = 60
MAX_DELAY_SECONDS = 30
RESTART_WINDOW_SECONDS = 300
STOP_GRACE_SECONDS = 10


def _say(name: str, message: str) -> None:
    print(f"supervise: {name} {message}", file=sys.stderr, flush=True)


def _describe(status: int) -> str:
    if status < 0:
        with contextlib.suppress(ValueError):
            return f"status {status} ({signal.Signals(-status).name})"
    return f"status {status}"


class Supervisor:
    def __init__(self, name: str, command: list[str], *, until_success: bool, max_restarts: int) -> None:
        self.name = name
        self.command = command
        self.until_success = until_success
        self.max_restarts = max_restarts
        self.child: subprocess.Popen | None = None
        self.stopping = False
        self.restarts: list[float] = []

    def _stop_requested(self) -> bool:
        return self.stopping  # read through a call: a signal handler sets it

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.child.pid, signum)

    def _reap_group(self, pgid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)

    def _stop_child(self) -> None:
        if self.child is None:
            return
        try:
            self.child.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _say(self.name, f"did not stop within {STOP_GRACE_SECONDS} s: killed")
        self._reap_group(self.child.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.child.wait(timeout=5)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stop_requested() and time.monotonic() < deadline:
            time.sleep(min(0.2, deadline - time.monotonic()))

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        delay = 1.0
        while not self._stop_requested():
            started = time.monotonic()
            try:
                self.child = subprocess.Popen(self.command, start_new_session=True)  # noqa: S603 - the Procfile's command
            except OSError as error:
                _say(self.name, f"could not be started: {error}")
                return 1
            status = self.child.wait()
            self._reap_group(self.child.pid)  # what the command left behind in its group
            if self._stop_requested():
                break
            lasted = time.monotonic() - started
            if self.until_success and status == 0:
                _say(self.name, f"done after {lasted:.0f} s")
                while not self._stop_requested():
                    time.sleep(0.5)
                return 0
            if status in NO_RESTART_STATUSES:
                _say(self.name, f"exited with {_describe(status)} ({NO_RESTART_STATUSES[status]}): not restarted")
                return status
            now = time.monotonic()
            self.restarts = [at for at in self.restarts if now - at < RESTART_WINDOW_SECONDS] + [now]
            if len(self.restarts) > self.max_restarts:
                _say(
                    self.name,
                    f"exited with {_describe(status)}, {len(self.restarts)} times in {RESTART_WINDOW_SECONDS} s: "
                    "giving up",
                )
                return 1
            delay = 1.0 if lasted >= GOOD_RUN_SECONDS else delay
            _say(
                self.name,
                f"exited with {_describe(status)} after {lasted:.0f} s; restarting in {delay:.0f} s "
                f"(restart {len(self.restarts)})",
            )
            self._sleep(delay)
            delay = min(delay * 2, MAX_DELAY_SECONDS)
        self._stop_child()
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.supervise", description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--until-success", action="store_true")
    parser.add_argument("--max-restarts", type=int, default=10)
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        parser.error("a command is required after --")
    split = argv.index("--")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    supervisor = Supervisor(args.name, command, until_success=args.until_success, max_restarts=args.max_restarts)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
