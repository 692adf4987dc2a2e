"""The job dashboard (django-rq's pages): staff holding `django_rq.admin` ("Access admin page",
the permission django-rq defines) or superusers only.

django-rq 4.x checks is_staff only (`staff_member_required` on every view; its stats JSON and
metrics views take any staff user), yet its pages show job arguments and let a caller delete or
requeue failed jobs, the dead-letter queue of unforwarded orders and unapplied webhooks. So every
one of its URLs is served through `dashboard_view`, both where config/urls.py mounts them
(/admin/django-rq/) and where the admin registers them (/admin/django_rq/dashboard/), and the
admin index shows its link only to those who may open it. django-rq's own API token
(RQ_API_TOKEN) is not used: /metrics exports the queues.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django_rq.admin import QueueAdmin
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

DASHBOARD_PERMISSION = "django_rq.admin"

View = Callable[..., HttpResponse]


def can_open_dashboard(request: HttpRequest) -> bool:
    """Whether this user may see the job dashboard (superusers hold every permission)."""
    return bool(request.user.is_active and request.user.is_staff and request.user.has_perm(DASHBOARD_PERMISSION))


def dashboard_view(view: View) -> View:
    """Wrap a django-rq view: anonymous or non-staff users go to the admin login, staff without the
    permission get 403 (PermissionDenied) before the view runs."""

    @wraps(view)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_open_dashboard(request):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return staff_member_required(gated)


def _wrapped(patterns: list[URLPattern], wrapper: Callable[[View], View]) -> list[URLPattern]:
    return [URLPattern(item.pattern, wrapper(item.callback), item.default_args, item.name) for item in patterns]


def dashboard_urlpatterns() -> list[URLPattern]:
    """Every django-rq URL (pages, actions, stats JSON, metrics), each behind `dashboard_view`."""
    return _wrapped(get_api_urlpatterns(), dashboard_view) + get_admin_urlpatterns(view_wrapper=dashboard_view)


class JobDashboardAdmin(QueueAdmin):
    """django-rq's admin entry, with its link, changelist and every URL behind the permission."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_open_dashboard(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_open_dashboard(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_open_dashboard(request)

    def get_urls(self) -> list[URLPattern]:
        def wrap(view: View) -> View:
            gated = self.admin_site.admin_view(dashboard_view(view))

            @wraps(view)
            def in_admin(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                request.current_app = self.admin_site.name
                return gated(request, *args, **kwargs)

            return in_admin

        # Not QueueAdmin.get_urls: it leaves the stats JSON and metrics views unwrapped.
        own = _wrapped(get_api_urlpatterns(name_prefix="django_rq_"), wrap)
        own += get_admin_urlpatterns(name_prefix="django_rq_", view_wrapper=wrap)
        return own + super(QueueAdmin, self).get_urls()
