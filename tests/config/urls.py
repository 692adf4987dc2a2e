from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from tests.config import views_for_tests as views

urlpatterns = [
    path("api/test/echo", views.EchoView.as_view()),
    path("api/test/boom", views.BoomView.as_view()),
    path("api/test/throttled", views.ThrottledView.as_view()),
    path("api/test/enqueue", views.EnqueueView.as_view()),
    path("api/test/refused", views.RefusedView.as_view()),
    path("api/test/suspicious", views.SuspiciousView.as_view()),
    *project_urlpatterns,
]

handler400 = "config.api_errors.handler400"
handler404 = "config.api_errors.handler404"
handler500 = "config.api_errors.handler500"
