"""List columns that fit 1366 px: short date-times and status badges shared by the apps' admins.

Django's default date-time cell ("Dec. 2, 2026, 1:02 a.m.") takes about twice the width of
"Dec 2, 01:02"; the year is shown only when it is not the current one.
"""

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html


def short_datetime(value: datetime | None) -> str:
    """`Dec 2, 01:02` (this year) or `Dec 2 2025, 01:02`, in the current time zone; "-" for None."""
    if value is None:
        return "-"
    local = timezone.localtime(value)
    pattern = "M j, H:i" if local.year == timezone.localtime().year else "M j Y, H:i"
    return date_format(local, pattern)


def status_badge(modifier: str, label: str) -> str:
    """A status as a coloured badge (`crm-badge crm-badge--<modifier>`, crm/admin.css and backoffice/admin.css)."""
    return format_html('<span class="crm-badge crm-badge--{}">{}</span>', modifier, label)
