"""gunicorn's configuration for the web pods (``--config=python:deploy.gunicorn``).

Reading it reads the settings, once, in the master, before gunicorn logs anything or starts a
worker: a configuration error (a missing secret file, no EMAIL_URL in production) is then one
line and exit 2, as for every ``manage.py`` command, instead of a traceback from each worker
and gunicorn's "Worker failed to boot" (exit 3) in a crash loop.
"""

from __future__ import annotations

import sys


def refuse_a_bad_configuration() -> None:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reading one setting loads them all
    except ImproperlyConfigured as exc:
        lines = str(exc).strip().splitlines()
        sys.stderr.write(f"❌ configuration error: {lines[0] if lines else type(exc).__name__}\n")
        sys.exit(2)


refuse_a_bad_configuration()
