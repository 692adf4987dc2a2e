"""Root URLs. Each app's API lives under /api/ in its own urls.py."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import api_errors, health, metrics

urlpatterns = [
    path("health", health.health, name="health"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/django-rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    re_path(r"^api/", api_errors.api_not_found),
]

handler404 = "config.api_errors.handler404"
handler500 = "config.api_errors.handler500"
