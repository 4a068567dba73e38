#!/usr/bin/env python
"""Django's command-line utility for Manage2Soar."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manage2soar.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # Read the settings first: Django would swallow their error for most commands and fail
        # later with a traceback that doesn't say what is wrong.
        settings.INSTALLED_APPS  # noqa: B018
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A configuration error is the operator's to fix: one line, exit 2, no traceback.
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.stderr.write(f"❌ configuration error: {first_line}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
