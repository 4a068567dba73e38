"""URL configuration. The admin is discovered here, not at start-up, so commands stay small."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from utils import views

admin.autodiscover()

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]
