"""Default storage: the media folder, or Google Cloud Storage (on the loopback emulator here) when
GS_BUCKET_NAME is set; the Google libraries load only when that storage is used."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine

from logsheet.tests.factories import FlightFactory, LogsheetFactory
from members.tests.factories import MemberFactory
from testsupport.databases import REPO, manage_env, run_manage
from testsupport.gcs import GCSEmulator
from testsupport.smtp import SMTPServer

TOKEN = r"[A-Za-z0-9_-]{22,}"


@pytest.fixture
def emulator() -> Iterator[GCSEmulator]:
    server = GCSEmulator().start()
    yield server
    server.stop()


@pytest.fixture
def gcs(settings: Any, monkeypatch: pytest.MonkeyPatch, emulator: GCSEmulator) -> GCSEmulator:
    """Django's default storage is the emulator's bucket, through django-storages."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.url)
    settings.STORAGES = emulator.storages(settings.STORAGES["staticfiles"])
    return emulator


def settings_of(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    code = (
        "from django.conf import settings; import json; "
        "print(json.dumps(settings.STORAGES['default'], default=str))"
    )
    environment = manage_env(f"sqlite:///{tmp_path}/db.sqlite3", **env)
    return run_manage("shell", "--no-imports", "-c", code, env=environment)


# --- Settings -------------------------------------------------------------------------------------
def test_without_a_bucket_the_default_storage_is_the_media_folder(tmp_path: Path) -> None:
    result = settings_of(tmp_path)
    assert json.loads(result.stdout) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_makes_google_cloud_storage_the_default(tmp_path: Path) -> None:
    key = tmp_path / "gcs-credentials.json"
    key.write_text("{}")
    result = settings_of(
        tmp_path, GS_BUCKET_NAME="club-media", GS_LOCATION="prod", GOOGLE_APPLICATION_CREDENTIALS=str(key)
    )
    assert result.returncode == 0, result.stderr
    storage = json.loads(result.stdout)
    assert storage["BACKEND"] == "storages.backends.gcloud.GoogleCloudStorage"
    assert storage["OPTIONS"] == {
        "bucket_name": "club-media",
        "project_id": None,
        "location": "prod",
        "querystring_auth": False,
        "expiration": "7 days, 0:00:00",
        "default_acl": None,
        "custom_endpoint": None,
        "file_overwrite": False,
    }


def test_a_credentials_file_that_is_not_mounted_is_a_configuration_error(tmp_path: Path) -> None:
    result = settings_of(
        tmp_path, GS_BUCKET_NAME="club-media", GOOGLE_APPLICATION_CREDENTIALS=str(tmp_path / "missing.json")
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"❌ configuration error: GOOGLE_APPLICATION_CREDENTIALS={tmp_path / 'missing.json'}: no such file "
        "(mount the service account key)"
    ]


# --- Through the emulator ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_delinquency_csv_lands_in_the_bucket_and_its_link_works(
    settings: Any, smtp_settings: SMTPServer, gcs: GCSEmulator
) -> None:
    settings.SITE_URL = "https://club.example.org"
    MemberFactory(username="bea", first_name="Bea", last_name="Board", director=True)
    slacker = MemberFactory(username="sam", first_name="Sam", last_name="Slacker")
    FlightFactory(
        pilot=slacker, logsheet=LogsheetFactory(log_date=datetime.date(2026, 6, 13), created_by=None)
    )

    with time_machine.travel(datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC), tick=False):
        from testsupport.commands import run_command

        result = run_command("report_duty_delinquents")

    assert result.code == 0, result.err
    [(name, content)] = gcs.objects().items()
    assert re.fullmatch(rf"reports/duty-delinquents/2026-12-01-{TOKEN}\.csv", name)
    assert content.decode().splitlines()[1].startswith("Sam Slacker,sam@example.org,1,2026-06-13")
    text = smtp_settings.messages[0].get_body(("plain",)).get_content()
    link = re.search(r"The list as a spreadsheet \(CSV\): (\S+)", text)
    assert link, text
    url = link.group(1)
    assert url == f"{gcs.url}/{gcs.bucket}/{name}"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the loopback emulator
        assert response.read() == content
        assert response.headers["Content-Type"].startswith("text/csv")
    # The link is extra: the same list is attached to the email.
    [attachment] = list(smtp_settings.messages[0].iter_attachments())
    # (as text, its lines travel with CRLF endings, as RFC 4180 and the mail transport want them)
    assert attachment.get_content().replace("\r\n", "\n").encode() == content


# --- Memory: the Google libraries load only when used -------------------------------------------------
PROBE = """
import datetime, json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from logsheet.tests.factories import FlightFactory, LogsheetFactory
from members.tests.factories import MemberFactory
MemberFactory(username="bea", director=True)
FlightFactory(pilot=MemberFactory(username="sam"), logsheet=LogsheetFactory(log_date=datetime.date.today()))
call_command(sys.argv[1])
heavy = sorted({name.split(".")[0] + "." + name.split(".")[1] if "." in name else name
                for name in sys.modules if name.startswith(("google.", "twilio", "storages.backends"))})
print("LOADED " + json.dumps(heavy))
"""


def loaded_after(tmp_path: Path, command: str, **env: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, command],
        env=manage_env(f"sqlite:///{tmp_path}/{command}.sqlite3", **env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [line] = [line for line in result.stdout.splitlines() if line.startswith("LOADED ")]
    return json.loads(line.removeprefix("LOADED "))


def test_a_command_run_without_gcs_never_imports_the_google_libraries(tmp_path: Path) -> None:
    # Without a bucket the report attaches its CSV to the emails and saves no file (a link to
    # the local media folder would open for staff only): not a single Google module is loaded.
    assert loaded_after(tmp_path, "report_duty_delinquents", MEDIA_ROOT=str(tmp_path / "media")) == []
    assert not list((tmp_path / "media").rglob("*.csv"))


def test_with_gcs_only_a_command_that_stores_a_file_imports_them(
    tmp_path: Path, emulator: GCSEmulator
) -> None:
    assert loaded_after(tmp_path, "notify_aging_logsheets", **emulator.env()) == []
    loaded = loaded_after(tmp_path, "report_duty_delinquents", **emulator.env())
    assert {"google.cloud", "storages.backends"} <= set(loaded) and "twilio" not in loaded
    assert [name for name in emulator.objects() if name.endswith(".csv")]
