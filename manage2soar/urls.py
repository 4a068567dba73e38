"""URL configuration. The admin is discovered here, not at start-up, so commands stay small."""

from __future__ import annotations

import django_stubs_ext
from django.conf import settings
from django.contrib import admin
from django.urls import path, re_path

from operations import dashboard, views
from webkit.views import favicon

# The admin classes are subscripted (ModelAdmin[Delivery]): the stubs' generics, before the
# admin modules load.
django_stubs_ext.monkeypatch()
admin.autodiscover()

urlpatterns = [
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
    # The scheduled jobs at a glance (staff only). /metrics is answered by HealthCheckMiddleware.
    path("cron/", dashboard.dashboard, name="cron_dashboard"),
    # Files in the local media folder (reports such as the duty-delinquency CSV) are member
    # data: staff only. With Google Cloud Storage configured, links point at the bucket instead.
    re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", views.media, name="media"),
]
