from django.urls import path

from webhooks import stripe_receiver, views

urlpatterns = [
    path("cj", views.CJWebhookReceiveView.as_view(), name="webhooks-cj"),
    path("stripe", stripe_receiver.StripeWebhookReceiveView.as_view(), name="webhooks-stripe"),
]
