"""What the loopback benchmarks of order intake share (`orders.py`, `payments.py`): free ports, the
processes they start with the bench's environment, waiting for a server, the accepted-requests rate
of concurrent clients, and the gunicorn app that serves the project with a minimal POST view beside
it (`bench.harness:application`, started with BENCH_SERVE=1), the baseline of their ratios.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """`manage.py` commands and long-running processes with the bench's environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def environ(self, **extra: str) -> dict[str, str]:
        return {**os.environ, **self.env, **extra}

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.environ(), check=True)

    def spawn(self, *command: str, **extra: str) -> subprocess.Popen:
        return subprocess.Popen(
            list(command), cwd=BASE_DIR, env=self.environ(**extra), stdout=subprocess.DEVNULL, start_new_session=True
        )


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        process.wait(timeout=30)


def wait_for(check: Callable[[], object], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up")


def rate(post: Callable[[dict], int], bodies: Callable[[int, int], dict], seconds: float, threads: int = 4) -> float:
    """Accepted (202) requests per second of `post` (which answers the status) with `threads`
    concurrent clients, each sending `bodies(client, n)`."""
    counts, errors = [0] * threads, []
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        n = 0
        while time.monotonic() < stop_at:
            status = post(bodies(index, n))
            n += 1
            if status == 202:
                counts[index] += 1
            else:
                errors.append(status)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise RuntimeError(f"{len(errors)} answers other than 202: {set(errors)}")
    return sum(counts) / (time.monotonic() - started)


# --- the WSGI app gunicorn serves: the project plus a minimal POST view --------------------------
if os.environ.get("BENCH_SERVE"):
    from django.conf import settings as django_settings

    django_settings.ROOT_URLCONF = "bench.harness"
    django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = []
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()

    from django.urls import path
    from rest_framework.permissions import AllowAny
    from rest_framework.response import Response
    from rest_framework.throttling import ScopedRateThrottle
    from rest_framework.views import APIView

    import config.urls

    ScopedRateThrottle.allow_request = lambda self, request, view: True  # type: ignore[method-assign]

    class MinimalPostView(APIView):
        permission_classes = [AllowAny]

        def post(self, request):
            return Response({"ok": bool(request.data)}, status=202)

    urlpatterns = [path("api/bench/minimal", MinimalPostView.as_view()), *config.urls.urlpatterns]
