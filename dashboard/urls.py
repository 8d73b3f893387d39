from django.urls import include, path

from dashboard import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("", include("runs.urls")),
    path("", include("webhooks.urls")),
    path("", include("realtime.urls")),
]
