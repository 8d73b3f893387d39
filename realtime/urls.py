from django.urls import path

from realtime import sse

urlpatterns = [
    path("events", sse.events, name="events"),
]
