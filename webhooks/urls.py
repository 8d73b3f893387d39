from django.urls import path

from webhooks import views

urlpatterns = [
    path("webhooks/github", views.github_webhook, name="github_webhook"),
]
