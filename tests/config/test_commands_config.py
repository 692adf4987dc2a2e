"""Commands as cron runs them: a configuration error is one line on stderr and a non-zero exit
(`manage.py` 2, the WSGI module 4 so gunicorn stops), nothing precedes a command's output, and
Ctrl-C on `make run` is not reported by make as an error.

Each runs `manage.py` (or imports `config.wsgi`) in a fresh interpreter with a stripped
environment: the variable under test is set empty or wrong, which also wins over a developer's
`.env` (django-environ never overrides a variable that is set).
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.cj_fixtures import BASE_DIR


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "not-a-secret-key-of-the-test-that-is-long-enough",
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "REDIS_CACHE_URL": os.environ.get("TEST_REDIS_CACHE_URL", "redis://127.0.0.1:6379/15"),
        **env,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "configuration error: DJANGO_SECRET_KEY is not set (see .env.example)"),
        (
            {"DATABASE_URL": "not a url"},
            "configuration error: DATABASE_URL is not a PostgreSQL URL such as postgres://user@host:5432/name "
            "(see .env.example)",
        ),
        (
            {"DATABASE_URL": "mysql://shop:hunter2@db/shop"},
            "configuration error: DATABASE_URL is not a PostgreSQL URL such as postgres://user@host:5432/name "
            "(see .env.example)",
        ),
        ({"CJ_QPS": "fast"}, "configuration error: CJ_QPS is not a valid float (see .env.example)"),
        (
            {"CJ_RETRY_ATTEMPTS": "three"},
            "configuration error: CJ_RETRY_ATTEMPTS is not a valid int (see .env.example)",
        ),
        (
            {"RQ_RETRY_INTERVALS": "10,soon"},
            "configuration error: RQ_RETRY_INTERVALS is not in the expected format (see .env.example)",
        ),
        ({"REDIS_URL": "localhost:6379"}, "configuration error: REDIS_URL must be a redis:// or rediss:// URL"),
    ],
)
def test_a_configuration_error_is_one_line_and_exit_status_2(env, line):
    finished = _run(["manage.py", "sync_cj", "stock"], **env)

    assert (finished.returncode, finished.stdout, finished.stderr) == (2, "", line + "\n")


def test_a_configuration_error_never_shows_the_database_password():
    finished = _run(["manage.py", "check"], DATABASE_URL="mysql://shop:hunter2@db/shop")

    assert "hunter2" not in finished.stdout + finished.stderr


def test_the_wsgi_module_reports_a_configuration_error_in_one_line_with_gunicorns_app_load_status():
    finished = _run(["-c", "import config.wsgi"], DJANGO_SECRET_KEY="")

    assert (finished.returncode, finished.stdout, finished.stderr) == (
        4,
        "",
        "configuration error: DJANGO_SECRET_KEY is not set (see .env.example)\n",
    )


def test_help_with_a_configuration_error_says_so_too():
    finished = _run(["manage.py", "help"], DJANGO_SECRET_KEY="")

    assert (finished.returncode, finished.stderr) == (
        2,
        "configuration error: DJANGO_SECRET_KEY is not set (see .env.example)\n",
    )


def test_a_command_prints_nothing_before_its_own_output():
    # No "AXES: BEGIN ..." banner (django-axes logs it at startup when AXES_VERBOSE is on).
    finished = _run(["manage.py", "check"])

    assert (finished.returncode, finished.stdout, finished.stderr) == (
        0,
        "System check identified no issues (0 silenced).\n",
        "",
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
@pytest.mark.parametrize(("honcho_status", "status"), [(130, 0), (0, 0), (1, 1), (2, 2)])
def test_make_run_treats_ctrl_c_as_the_way_out_and_keeps_real_failures(honcho_status, status):
    # The recipe as `make -n run` prints it, run by sh with honcho replaced by a process that exits
    # as honcho does (130 when Ctrl-C stops it) and the background webhook registration left out.
    # Under `make check` this runs inside make: without its variables, the inner make prints no
    # "Entering/Leaving directory" lines into the recipe.
    outer_make = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")
    env = {name: value for name, value in os.environ.items() if name not in outer_make}
    printed = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", "CJ_API_KEY="],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    ).stdout
    recipe = printed[printed.index("\n", printed.index("sync_cj starter --enqueue --if-empty")) + 1 :]
    honcho_line = recipe.split(" & ", 1)[-1]
    assert "honcho start -f Procfile " in honcho_line
    fake = re.sub(r"\S*honcho start -f Procfile [^\\|]*", f"sh -c 'exit {honcho_status}' ", honcho_line)

    finished = subprocess.run(["sh", "-c", fake], cwd=BASE_DIR, capture_output=True, text=True, timeout=60)

    assert finished.returncode == status
