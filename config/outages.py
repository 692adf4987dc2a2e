"""One log line per outage and one per recovery, with counts, instead of a traceback per attempt.

A process that keeps meeting the same dead dependency (Redis, mostly) reports it through an
`Outage`: the first failure logs `<name>.outage` (WARNING, the error's text, no traceback), the
failures after it are only counted, and the first success afterwards logs `<name>.recovered` with
how long it lasted, how many attempts failed and how many were skipped. While an outage lasts,
`allow()` lets one attempt through every `probe_seconds` (the others are skipped at once), so a
request path spends no time on a dependency known to be down.

Per process and thread-safe; each gunicorn worker, RQ worker and scheduler keeps its own.
"""

import logging
import threading
import time
from collections.abc import Callable


class Outage:
    """The state of one dependency as one caller sees it: up, or down since when and how often."""

    def __init__(self, logger: logging.Logger, name: str, *, probe_seconds: float | Callable[[], float] = 0.0) -> None:
        self.logger = logger
        self.name = name
        self._probe_seconds = probe_seconds
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self.failures = 0
        self.skipped = 0
        self._next_probe = 0.0

    @property
    def probe_seconds(self) -> float:
        return self._probe_seconds() if callable(self._probe_seconds) else self._probe_seconds

    @property
    def is_down(self) -> bool:
        return self.down_since is not None

    def allow(self) -> bool:
        """Whether to try now: always while up; during an outage one probe per `probe_seconds`."""
        with self._lock:
            if self.down_since is None:
                return True
            now = time.monotonic()
            if now >= self._next_probe:
                self._next_probe = now + self.probe_seconds
                return True
            self.skipped += 1
            return False

    def failed(self, error: BaseException, **fields: object) -> bool:
        """Record a failed attempt; logs (and returns True) only for the first one of an outage."""
        with self._lock:
            self.failures += 1
            self._next_probe = time.monotonic() + self.probe_seconds
            if self.down_since is not None:
                return False
            self.down_since = time.monotonic()
        self.logger.warning(f"{self.name}.outage", extra={"error": f"{type(error).__name__}: {error}"[:300], **fields})
        return True

    def succeeded(self, **fields: object) -> bool:
        """Record a success; logs (and returns True) the recovery when an outage was under way."""
        with self._lock:
            if self.down_since is None:
                return False
            lasted = time.monotonic() - self.down_since
            failures, skipped = self.failures, self.skipped
            self.down_since, self.failures, self.skipped = None, 0, 0
        self.logger.warning(
            f"{self.name}.recovered",
            extra={"outage_seconds": round(lasted, 1), "failed_attempts": failures, "skipped": skipped, **fields},
        )
        return True
