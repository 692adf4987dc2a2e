"""The address gunicorn listens on (`WEB_BIND`) and the warning when debug is exposed by it."""

import os
import sys

from config.client_address import is_loopback

DEFAULT_WEB_BIND = "127.0.0.1"


def web_bind_warning(*, bind: str, debug: bool) -> str | None:
    """The one-line warning for listening on `bind` with `debug`, or None when nothing is exposed."""
    if not debug or is_loopback(bind) or bind == "localhost":
        return None
    return (
        f"WARNING: DJANGO_DEBUG is on and WEB_BIND={bind} is not a loopback address: other machines "
        "can reach this development server (debug pages are shown to loopback clients only)."
    )


def web_bind_warn(*, debug: bool) -> None:
    """Write the warning for the current `WEB_BIND` to stderr, if there is one."""
    warning = web_bind_warning(bind=os.environ.get("WEB_BIND") or DEFAULT_WEB_BIND, debug=debug)
    if warning is not None:
        print(warning, file=sys.stderr, flush=True)
