"""WSGI entry point for the web Deployment (gunicorn manage2soar.wsgi)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manage2soar.settings")
application = get_wsgi_application()
