"""`cj_product` against the simulator: the summary, and one-line errors with a non-zero exit;
`cj_simulator` without the simulator's source (an installed wheel leaves it out)."""

import os
import socket
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.catalog.factories import ProductFactory
from tests.cj_fixtures import BASE_DIR


def test_cj_product_prints_the_product(cj_simulator):
    out = StringIO()

    call_command("cj_product", "2408300610371613200", stdout=out)

    assert out.getvalue().splitlines() == [
        "2408300610371613200  Silicone Measuring Spoon Set",
        "SKU CJTEST0000001 | Home & Garden / Kitchen Tools / Measuring Tools | 2.35-2.60 USD | on sale",
        "Variants (2):",
        "  CJTEST0000001-Black-M            Black / M            2.35 USD  stock 480",
        "  CJTEST0000001-White-L            White / L             2.6 USD  stock 400",
    ]


def test_cj_product_unknown_product(cj_simulator):
    with pytest.raises(CommandError) as raised:
        call_command("cj_product", "1")

    assert str(raised.value) == "CJ has no product 1 (code 1602001)."


def test_cj_product_bad_key(cj_simulator, settings):
    settings.CJ_API_KEY = "wrong-key"

    with pytest.raises(CommandError) as raised:
        call_command("cj_product", "2408300610371613200")

    assert str(raised.value) == "CJ refused the credentials: apiKey is wrong, please check it (code 1600005)."


MISSING_KEY = (
    "CJ_API_KEY is not set: put the API key from CJ's developer settings in the environment or .env (see .env.example)"
)


def test_cj_product_without_a_key_says_the_key_is_missing(cj_simulator, settings):
    settings.CJ_API_KEY = ""

    with pytest.raises(CommandError) as raised:
        call_command("cj_product", "2408300610371613200")

    assert str(raised.value) == MISSING_KEY
    assert cj_simulator.calls("authentication/getAccessToken") == 0


@pytest.mark.django_db
def test_sync_cj_without_a_key_says_the_key_is_missing(cj_simulator, settings):
    settings.CJ_API_KEY = ""
    ProductFactory()  # the sync reads the shop's own products: one to ask CJ about

    with pytest.raises(CommandError) as raised:
        call_command("sync_cj", "products", stdout=StringIO())

    assert str(raised.value) == f"sync failed: {MISSING_KEY}"


@pytest.mark.django_db
def test_cj_product_unreachable(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CJ_API_BASE = f"http://127.0.0.1:{port}/api2.0/v1/"
    settings.CJ_API_KEY = "SIMULATOR-DEMO-KEY"
    settings.CJ_RETRY_BACKOFF = 0.01

    with pytest.raises(CommandError) as raised:
        call_command("cj_product", "2408300610371613200")

    assert str(raised.value) == (
        f"CJ is unreachable at http://127.0.0.1:{port}/api2.0/v1/: connection failed: ConnectionError"
    )


def test_login_that_never_reached_cj_can_be_retried_at_once(cj_simulator, settings):
    settings.CJ_RETRY_ATTEMPTS = 1
    cj_simulator.fault("http_5xx", endpoint="authentication/getAccessToken", count=1, status=502)

    with pytest.raises(CommandError):
        call_command("cj_product", "2408300610371613200")
    call_command("cj_product", "2408300610371613200", stdout=StringIO())

    assert cj_simulator.calls("authentication/getAccessToken") == 2
    assert cj_simulator.stats()["get_access_token"] == 1


def test_cj_product_leaves_the_integration_log_level_alone(cj_simulator):
    import logging

    level = logging.getLogger("integration.cj").level

    call_command("cj_product", "2408300610371613200", stdout=StringIO())

    assert logging.getLogger("integration.cj").level == level


def test_cj_simulator_without_the_simulator_says_so():
    # A separate interpreter where the simulator's modules cannot be imported, as in a built wheel
    # (None in sys.modules makes `import` fail); the test process keeps its own modules untouched.
    script = (
        "import sys; sys.modules['integrations.cj.simulator.server'] = None; "
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'cj_simulator', '--port', '0'])"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings"}

    finished = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )

    assert finished.returncode == 1
    assert finished.stderr.splitlines()[-1] == (
        "CommandError: the CJ simulator is not installed: run it from the repository checkout"
    )
