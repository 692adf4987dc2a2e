"""JSON logging: one object per line with timestamp, level, logger, message (a dotted event name)
and the request id of the request or job that wrote it.

Categories (logger names): `http` (one line per request), `business` (audit events),
`integration.cj` (every CJ call), `jobs`, `performance` (slow requests and jobs), `security`.
"""

import logging
import logging.config
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from config.request_context import current_request_id


class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or None
        return True


class JsonFormatter(_JsonFormatter):
    """python-json-logger with our field names and an ISO-8601 UTC timestamp."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s %(request_id)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        super().__init__(*args, **kwargs)


def configure(settings_logging: dict[str, Any]) -> None:
    """Django's LOGGING_CONFIG hook: JSON lines on stdout at the configured level."""
    level = settings_logging.get("level", "INFO")
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"request_id": {"()": RequestIdFilter}},
            "formatters": {"json": {"()": JsonFormatter}},
            "handlers": {
                "stdout": {
                    "class": "logging.StreamHandler",
                    "stream": "ext://sys.stdout",
                    "formatter": "json",
                    "filters": ["request_id"],
                }
            },
            "root": {"handlers": ["stdout"], "level": level},
            "loggers": {
                # 4xx warnings would duplicate our `http` line; 5xx keep their stack traces.
                "django.request": {"level": "ERROR"},
                "django.server": {"level": "WARNING"},
                "rq.worker": {"level": level},
                # The SDK's own request lines; orders.payments logs one `integration.stripe` line per call.
                "stripe": {"level": "WARNING"},
            },
        }
    )
