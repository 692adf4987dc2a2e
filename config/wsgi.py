"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.urls import resolve

from config.web_bind import web_bind_warn

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# Import the URLconf, and with it every view, while the worker boots rather than in its first
# request (Django's plain, lazy way): a burst of CJ pushes reaching a fresh worker would queue
# behind that import (bench/webhooks.py, ack latency).
resolve("/api/webhooks/cj")
web_bind_warn(debug=settings.DEBUG)
