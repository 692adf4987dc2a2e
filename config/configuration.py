"""Configuration errors in one line: the settings' environment reader, and the loader the entry
points (`manage.py`, `config.wsgi`) call before anything else.

An operator running a command from cron, or a supervisor starting gunicorn, sees
`configuration error: DJANGO_SECRET_KEY is not set (see .env.example)` on stderr and a non-zero
exit, not the traceback of the settings module.
"""

import sys
import warnings
from typing import Any, TextIO

import environ
from django.core.exceptions import ImproperlyConfigured

# What `manage.py` exits with on a configuration error (2: the invocation is at fault, as argparse).
CONFIGURATION_ERROR_EXIT = 2
# What gunicorn's workers exit with on one: its "App failed to load" status, which stops the
# master; any other status would have it respawn workers that fail the same way, forever.
WSGI_CONFIGURATION_ERROR_EXIT = 4
POSTGRESQL_ENGINES = frozenset({"django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"})


class SettingsEnv(environ.Env):
    """django-environ's reader, whose errors name the variable and point at `.env.example`.

    A value that does not parse (`CJ_QPS=fast`) raises ImproperlyConfigured naming the variable,
    instead of a bare ValueError; a database URL that is not PostgreSQL's (the project needs it)
    raises too, instead of a warning followed by a failure at the first query.
    """

    def get_value(
        self, var: str, cast: Any = None, default: Any = environ.Env.NOTSET, parse_default: bool = False
    ) -> Any:
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ImproperlyConfigured as error:
            if str(error) == f"Set the {self.prefix}{var} environment variable":
                raise ImproperlyConfigured(f"{self.prefix}{var} is not set (see .env.example)") from error
            raise
        except (ValueError, TypeError) as error:
            # The value itself stays out of the message: it may be (part of) a secret.
            expected = f"a valid {cast.__name__}" if isinstance(cast, type) else "in the expected format"
            raise ImproperlyConfigured(f"{self.prefix}{var} is not {expected} (see .env.example)") from error

    def db_url(
        self, var: str = environ.Env.DEFAULT_DATABASE_ENV, default: Any = environ.Env.NOTSET, engine: Any = None
    ) -> dict:
        # django-environ only warns about an unknown scheme, and its warning shows the parsed URL,
        # password included: it is silenced, and the error below names the variable alone.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            config = super().db_url(var, default=default, engine=engine)
        if config.get("ENGINE") not in POSTGRESQL_ENGINES:
            raise ImproperlyConfigured(
                f"{var} is not a PostgreSQL URL such as postgres://user@host:5432/name (see .env.example)"
            )
        return config

    db = db_url


def settings_load_or_exit(*, exit_status: int = CONFIGURATION_ERROR_EXIT, stderr: TextIO | None = None) -> None:
    """Import the settings now; on a configuration error write it in one line to stderr and exit.

    Side effects: the settings module is imported (and cached by Django). Raises SystemExit with
    `exit_status` when the settings refuse the environment.
    """
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 (the access imports the settings module)
    except ImproperlyConfigured as error:
        print(f"configuration error: {error}", file=stderr or sys.stderr, flush=True)
        raise SystemExit(exit_status) from None
