"""The inbound API's URLs, mounted at /api/v1/ (config/urls.py)."""

from __future__ import annotations

from django.urls import path

from workspace import views

app_name = "inbound_api"
urlpatterns = [
    path("identify", views.identify, name="identify"),
    path("group", views.group, name="group"),
    path("track", views.track, name="track"),
    path("batch", views.batch, name="batch"),
]
