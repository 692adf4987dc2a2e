"""CRM API under /api/crm/."""

from django.urls import path

from crm import views

urlpatterns = [
    path("leads", views.LeadListCaptureView.as_view(), name="crm-leads"),
    path("leads/<int:lead_id>", views.LeadDetailView.as_view(), name="crm-lead-detail"),
    path("customers", views.CustomerListCreateView.as_view(), name="crm-customers"),
    path("customers/<int:customer_id>", views.CustomerDetailView.as_view(), name="crm-customer-detail"),
]
