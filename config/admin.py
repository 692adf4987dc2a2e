"""Admin registrations of the project package: django-rq's job dashboard behind its permission."""

from django.contrib import admin
from django_rq.models import Dashboard

from config.job_dashboard import JobDashboardAdmin

# django_rq (earlier in INSTALLED_APPS) registered its own admin, which checks is_staff only.
if admin.site.is_registered(Dashboard):
    admin.site.unregister(Dashboard)
    admin.site.register(Dashboard, JobDashboardAdmin)
