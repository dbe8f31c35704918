"""Forcebridge URLs: the admin is the UI; /healthz is the only page without a login."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from config.dashboard import dashboard
from config.health import healthz

admin.site.site_header = "Forcebridge"
admin.site.site_title = "Forcebridge"
admin.site.index_title = "Salesforce sync"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/dashboard/", admin.site.admin_view(dashboard), name="dashboard"),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
