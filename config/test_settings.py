"""Settings for the test suite: the real PostgreSQL and Redis, on databases the tests may flush.

Tests never touch the queues and caches of a running system: they use their own Redis databases
(`TEST_REDIS_URL`, `TEST_REDIS_CACHE_URL`) and pytest-django's own test database.
"""

import os

os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ["REDIS_CACHE_URL"] = os.environ.get("TEST_REDIS_CACHE_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-a-secret")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("RQ_RETRY_INTERVALS", "0,0,0")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Every enqueue tries Redis (no skipping while an outage is known), so one test's outage never
# leaks into the next; tests of the skipping set it themselves.
REDIS_OUTAGE_PROBE_SECONDS = 0.0
