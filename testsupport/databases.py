"""Scratch databases for tests that start real ``manage.py`` processes.

Each scratch database is created empty, migrated once by a real ``manage.py migrate``, and
emptied between tests. Only the drivers are used here, never Django's own connection, which
belongs to pytest-django's test database.
"""

from __future__ import annotations

import functools
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from utils.cronlog import first_line

if TYPE_CHECKING:
    from pymysql.connections import Connection as MariaDBConnection

REPO = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_MARIADB_URL = "mysql://root@127.0.0.1:3306/mysql"
# Tables the multi-process tests write; emptied between tests.
JOB_TABLES = ("notifications_delivery", "utils_cronjobrun", "utils_cronjoblock")


class DriverCursor(Protocol):
    """What ``query()`` uses of a cursor of sqlite3, psycopg2 or PyMySQL."""

    @property
    def description(self) -> object: ...

    def execute(self, sql: str, params: tuple[object, ...], /) -> object: ...

    def fetchall(self) -> Iterable[Iterable[object]]: ...

    def close(self) -> object: ...


class DriverConnection(Protocol):
    """A connection of sqlite3, psycopg2 or PyMySQL."""

    def cursor(self) -> DriverCursor: ...

    def close(self) -> object: ...


def postgres_url(dbname: str) -> str:
    base = urlsplit(os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    return urlunsplit(base._replace(path=f"/{dbname}"))


def mariadb_url(dbname: str) -> str:
    base = urlsplit(os.environ.get("TEST_MARIADB_URL", DEFAULT_MARIADB_URL))
    return urlunsplit(base._replace(path=f"/{dbname}"))


def _mariadb_connect(dbname: str | None = None) -> MariaDBConnection:
    import pymysql

    url = urlsplit(mariadb_url(dbname or "mysql"))
    return pymysql.connect(
        host=url.hostname or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        database=dbname or "mysql",
        connect_timeout=3,
        autocommit=True,
    )


@functools.cache
def mariadb_problem() -> str | None:
    """None when MariaDB answers, else why not (one line)."""
    try:
        _mariadb_connect().close()
    except Exception as exc:  # noqa: BLE001 - the driver missing is a reason too
        return first_line(exc, "unknown error")
    return None


@functools.cache
def postgres_problem() -> str | None:
    """None when PostgreSQL answers, else why not (one line)."""
    import psycopg2

    try:
        psycopg2.connect(postgres_url("postgres"), connect_timeout=3).close()
    except psycopg2.Error as exc:
        return first_line(exc, "unknown error")
    return None


def manage_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a manage.py child process: like a pod's, on the given database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    # Production refuses to start a sending process without these: the development defaults.
    env.setdefault("EMAIL_URL", "consolemail://")
    env.setdefault("SITE_URL", "http://localhost:8000")
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",  # like a pod (a checkout's .env says DEBUG=1; this wins over it)
        SECRET_KEY="tests-only-not-secret",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="manage2soar.settings",
    )
    env.update(extra)
    return env


def run_manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class ScratchDatabase:
    """A migrated database of one backend, for processes to share."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        suffix = secrets.token_hex(4)
        if backend == "sqlite":
            self._dir = tempfile.TemporaryDirectory(prefix="m2s-scratch-")
            self.url = f"sqlite:///{self._dir.name}/scratch.sqlite3"
        elif backend == "postgres":
            self.name = f"m2s_scratch_{suffix}"
            self.url = postgres_url(self.name)
        elif backend == "mariadb":
            self.name = f"m2s_scratch_{suffix}"
            self.url = mariadb_url(self.name)
        else:
            raise ValueError(f"unknown backend {backend!r}")

    def create(self, migrate: bool = True) -> ScratchDatabase:
        """Create the database, migrated unless ``migrate`` is False (then it is empty)."""
        if self.backend == "postgres":
            self._admin(f'CREATE DATABASE "{self.name}"')
        elif self.backend == "mariadb":
            self._admin(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4")
        if not migrate:
            return self
        result = run_manage("migrate", "--no-input", "-v0", env=manage_env(self.url))
        if result.returncode != 0:
            raise RuntimeError(f"migrate failed on {self.backend}: {result.stderr[-2000:]}")
        return self

    def drop(self) -> None:
        if self.backend == "postgres":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        elif self.backend == "mariadb":
            self._admin(f"DROP DATABASE IF EXISTS `{self.name}`")
        else:
            self._dir.cleanup()

    def _admin(self, sql: str) -> None:
        if self.backend == "mariadb":
            maria = _mariadb_connect()
            try:
                maria.cursor().execute(sql)
            finally:
                maria.close()
            return
        import psycopg2

        conn = psycopg2.connect(postgres_url("postgres"))
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
        finally:
            conn.close()

    def connect(self) -> DriverConnection:
        """A plain driver connection (autocommit), for setting up and inspecting state."""
        if self.backend == "postgres":
            import psycopg2

            conn = psycopg2.connect(self.url)
            conn.autocommit = True
            return conn
        if self.backend == "mariadb":
            return _mariadb_connect(self.name)
        return sqlite3.connect(urlsplit(self.url).path, isolation_level=None, timeout=30)

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Run one statement (``%s`` placeholders) and return its rows."""
        conn = self.connect()
        try:
            if self.backend == "sqlite":
                sql = sql.replace("%s", "?")
            cursor = conn.cursor()
            cursor.execute(sql, params)
            rows = [tuple(row) for row in cursor.fetchall()] if cursor.description else []
            cursor.close()
            return rows
        finally:
            conn.close()

    def empty(self, tables: tuple[str, ...] = JOB_TABLES) -> None:
        for table in tables:
            self.query(f"DELETE FROM {table}")
