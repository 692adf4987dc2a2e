"""Housekeeping jobs of the project itself (no business rules)."""

from django.core.management import call_command


def sessions_clear_expired_job() -> None:
    """Delete expired sessions from the database (sessions are `cached_db`, so rows accumulate)."""
    call_command("clearsessions")
