"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import resolve

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# Import the URLconf, and with it every view, while the worker boots rather than in its first
# request: that takes about 0.25 s, and a burst of CJ pushes reaching a fresh worker queued behind it.
resolve("/api/webhooks/cj")
