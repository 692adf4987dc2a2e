from django.urls import path

from webhooks import views

urlpatterns = [
    path("cj", views.CJWebhookReceiveView.as_view(), name="webhooks-cj"),
]
