"""Health endpoints for the web Deployment's probes, metrics, and staff access to stored reports."""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.db import DatabaseError, connection
from django.http import FileResponse, HttpRequest, HttpResponse
from django.views.static import serve


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Never touches the database."""
    return HttpResponse("ok\n", content_type="text/plain")


def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unreachable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics of the scheduled jobs (token-protected; see operations.metrics)."""
    from operations.metrics import metrics_view  # lazily: prometheus-client only where it is scraped

    return metrics_view(request)


@staff_member_required
def media(request: HttpRequest, path: str) -> FileResponse:
    """A file of the local media folder (reports hold member data: staff only)."""
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))
