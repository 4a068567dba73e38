"""Adopting the lock table of the original Manage2Soar system (``cronjob_locks``).

The original's ``utils`` app had migrations of the same names as this one's first:
``0001_initial`` (the table ``cronjob_locks``) and ``0002_alter_cronjoblock_locked_at`` (no
change to the table). On its database Django counts this app's ``0001_initial`` as applied, so
it would never create ``utils_cronjoblock`` and ``utils_cronjobrun``, and the next migration
would fail on the missing table. ``adopt_original_lock_table`` runs first in ``0002``, the first
migration Django applies there: it creates the two tables as ``0001_initial`` left them, moves
the original's lock rows over (a live lock stays held until its lease runs out), drops
``cronjob_locks`` and forgets the original's ``0002`` record. On any other database (a new one,
or one of this project) it does nothing. (This module's name starts with ``_``: Django's
migration loader does not take it for a migration.)
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.recorder import MigrationRecorder

ORIGINAL_LOCK_TABLE = "cronjob_locks"
ORIGINAL_SECOND_MIGRATION = "0002_alter_cronjoblock_locked_at"


def adopt_original_lock_table(apps: Any, schema_editor: Any) -> None:
    """RunPython: on the original's database only, make the tables of 0001 and move its locks."""
    connection = schema_editor.connection
    tables = set(connection.introspection.table_names())
    lock, run = apps.get_model("utils", "CronJobLock"), apps.get_model("utils", "CronJobRun")
    if ORIGINAL_LOCK_TABLE not in tables or lock._meta.db_table in tables:
        return
    schema_editor.create_model(lock)
    if run._meta.db_table not in tables:
        schema_editor.create_model(run)
    new, old = schema_editor.quote_name(lock._meta.db_table), schema_editor.quote_name(ORIGINAL_LOCK_TABLE)
    # An empty token is no acquisition's: the row is released by cron_locks or the admin, or
    # taken over once its lease has run out, like any other.
    schema_editor.execute(
        f"INSERT INTO {new} (job_name, locked_by, token, locked_at, expires_at) "
        f"SELECT job_name, locked_by, '', locked_at, expires_at FROM {old}"
    )
    schema_editor.execute(f"DROP TABLE {old}")
    MigrationRecorder(connection).migration_qs.filter(app="utils", name=ORIGINAL_SECOND_MIGRATION).delete()
