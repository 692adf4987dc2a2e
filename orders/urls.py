from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("shipping/quote", views.ShippingQuoteView.as_view(), name="shipping-quote"),
    path("orders", views.OrderCreateView.as_view(), name="create"),
    path("orders/<str:order_number>", views.OrderDetailView.as_view(), name="detail"),
]
