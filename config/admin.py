"""Admin registrations of the project package: django-rq's job dashboard behind its permission, and
the admin site without its navigation sidebar (lists chosen for 1366 px)."""

from django.contrib import admin
from django_rq.models import Dashboard

from config.job_dashboard import JobDashboardAdmin

# django_rq (earlier in INSTALLED_APPS) registered its own admin, which checks is_staff only.
if admin.site.is_registered(Dashboard):
    admin.site.unregister(Dashboard)
    admin.site.register(Dashboard, JobDashboardAdmin)

# At 1366 px the navigation sidebar (about 300 px) and a list's filters (240 px) leave a list too
# little room: the columns staff need (an order's total, CJ id, tracking, failure reason; a sync
# run's counts) fell outside the viewport. Staff navigate by the dashboard and the breadcrumbs.
admin.site.enable_nav_sidebar = False
