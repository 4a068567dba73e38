"""The web app's icon, at the address browsers ask for (``/favicon.ico``)."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.http import FileResponse, HttpRequest
from django.views.decorators.cache import cache_control

ICON = "webkit/favicon.ico"


@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> FileResponse:
    # The app's static copy, found as collectstatic would find it (no collectstatic needed).
    path = finders.find(ICON)
    assert isinstance(path, str), f"{ICON} is missing from webkit/static"
    return FileResponse(open(path, "rb"), content_type="image/x-icon")
