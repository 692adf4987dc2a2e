"""Root URLs. Each app's API lives under /api/ in its own urls.py."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config import api_errors, health, job_dashboard, job_status, metrics

urlpatterns = [
    path("health", health.health, name="health"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    # django-rq's pages, each behind the dashboard permission (django-rq itself checks is_staff only).
    path("admin/django-rq/", include((job_dashboard.dashboard_urlpatterns(), "django_rq"))),
    path("admin/", admin.site.urls),
    path("api/crm/", include("crm.urls")),
    path("api/", include("catalog.urls")),
    re_path(r"^api/jobs/(?P<job_id>[A-Za-z0-9_-]{1,64})$", job_status.JobStatusView.as_view(), name="job-status"),
    path("api/", include("orders.urls")),
    path("api/webhooks/", include("webhooks.urls")),
    re_path(r"^api/", api_errors.api_not_found),
]

handler400 = "config.api_errors.handler400"
handler404 = "config.api_errors.handler404"
handler500 = "config.api_errors.handler500"
