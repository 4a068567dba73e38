"""The start-up floor: a minimal Django process (``python -m benchmarks.minimal_django DB``).

Settings with only the auth and contenttypes apps, ``django.setup()``, one ORM query on an SQLite
database file (migrated beforehand with ``--migrate``): what any Django process pays before it
does its own work, measured in the same run as the jobs' start-up (benchmarks/__main__.py).
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": argv[0]}},
        USE_TZ=True,
    )
    django.setup()
    if argv[1:] == ["--migrate"]:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return 0
    from django.contrib.auth.models import Permission

    Permission.objects.filter(codename="view_user").exists()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
