"""The site's URLs plus a login shortcut, for the headless-browser test only (never deployed).

Chromium's command line can't fill in a login form, so the test opens
``/__test__/login/<id>/?next=/cron/``, which logs that user in and redirects.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path

from manage2soar.urls import urlpatterns as site_urlpatterns


def login_as(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_user_model().objects.get(pk=user_id)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(request.GET.get("next", "/"))


urlpatterns = [path("__test__/login/<int:user_id>/", login_as), *site_urlpatterns]
