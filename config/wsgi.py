"""WSGI entry point (gunicorn config.wsgi)."""

import os

from config.configuration import WSGI_CONFIGURATION_ERROR_EXIT, settings_load_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A configuration error is one line on stderr, and a status that stops gunicorn (not a traceback
# per worker respawned).
settings_load_or_exit(exit_status=WSGI_CONFIGURATION_ERROR_EXIT)

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import resolve  # noqa: E402

from config.web_bind import web_bind_warn  # noqa: E402

application = get_wsgi_application()
# Import the URLconf, and with it every view, while the worker boots rather than in its first
# request (Django's plain, lazy way): a burst of CJ pushes reaching a fresh worker would queue
# behind that import (bench/webhooks.py, ack latency).
resolve("/api/webhooks/cj")
web_bind_warn(debug=settings.DEBUG)
