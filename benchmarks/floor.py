"""The durable floor of sending: what a real run can't avoid adding over a dry run, per message.

``python -m benchmarks.floor DATABASE_URL SMTP_URL MESSAGES`` sends every message of the file
``MESSAGES`` (JSON lines: ``from``, ``to``, ``data`` in base64: what a job's real run delivered,
as the SMTP server received it) the least durable way: for each, a claim ``INSERT`` and its
commit, one ``smtplib`` send over the one reused connection, an ``UPDATE`` and its commit. It
prints ``{"seconds": …, "messages": …}``: the time from opening the SMTP connection to closing
it, the database already connected and the file read (a dry run pays those too).

No Django: plain psycopg2 and smtplib, in a process of its own, like the job it is compared with.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TABLE = "bench_delivery_floor"


def load(path: Path) -> list[dict[str, Any]]:
    messages = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        entry["data"] = base64.b64decode(entry["data"])
        messages.append(entry)
    return messages


def main(argv: list[str]) -> int:
    import psycopg2

    database_url, smtp_url, path = argv
    messages = load(Path(path))
    connection = psycopg2.connect(database_url)
    connection.autocommit = True  # every statement its own commit, as the ledger's are
    cursor = connection.cursor()
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, job_name varchar(100), "
        "day date, recipient varchar(254), kind varchar(100), channel varchar(10), status varchar(10), "
        "created_at timestamptz, sent_at timestamptz, UNIQUE (job_name, day, recipient, kind, channel))"
    )
    cursor.execute(f"TRUNCATE {TABLE}")
    started = time.perf_counter()
    import smtplib

    smtp = urlsplit(smtp_url)
    server = smtplib.SMTP(smtp.hostname or "127.0.0.1", smtp.port or 25, timeout=30)
    for number, message in enumerate(messages):
        cursor.execute(
            f"INSERT INTO {TABLE} (job_name, day, recipient, kind, channel, status, created_at) "
            "VALUES ('floor', current_date, %s, 'floor', 'email', 'pending', now()) "
            "ON CONFLICT DO NOTHING RETURNING id",
            [f"member:{number}"],
        )
        row = cursor.fetchone()
        assert row is not None  # the table was emptied: every claim is new
        row_id = row[0]
        server.sendmail(message["from"], message["to"], message["data"])
        cursor.execute(f"UPDATE {TABLE} SET status = 'sent', sent_at = now() WHERE id = %s", [row_id])
    server.quit()
    seconds = time.perf_counter() - started
    connection.close()
    print(json.dumps({"seconds": seconds, "messages": len(messages)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
