"""Forcebridge URLs: the admin is the UI. Without a staff login: /healthz, and the inbound API
(/api/v1/, which authenticates its own API keys: workspace/views.py)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config.dashboard import dashboard
from config.health import healthz

admin.site.site_header = "Forcebridge"
admin.site.site_title = "Forcebridge"
admin.site.index_title = "Salesforce sync"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("workspace.urls")),
    path("admin/dashboard/", admin.site.admin_view(dashboard), name="dashboard"),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
