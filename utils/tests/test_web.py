"""Admin for locks and runs, and the health endpoints."""

from __future__ import annotations

import pytest
from django.test import Client

from utils.models import CronJobLock, CronJobRun

pytestmark = pytest.mark.django_db


def test_health_endpoints(client: Client) -> None:
    assert client.get("/healthz").content == b"ok\n"
    assert client.get("/readyz").status_code == 200


def test_the_admin_releases_selected_locks(admin_client: Client) -> None:
    CronJobLock.objects.acquire("notify_late_sprs", "pod-a", 60)
    pk = CronJobLock.objects.get().pk
    assert admin_client.get("/admin/utils/cronjoblock/").status_code == 200
    response = admin_client.post(
        "/admin/utils/cronjoblock/", {"action": "release_locks", "_selected_action": [pk]}, follow=True
    )
    assert "Released 1 lock(s): notify_late_sprs" in response.content.decode()
    assert not CronJobLock.objects.exists()


def test_runs_are_read_only_in_the_admin(admin_client: Client) -> None:
    run = CronJobRun.objects.create(job_name="a", occurrence="o", pod="p")
    assert admin_client.get("/admin/utils/cronjobrun/").status_code == 200
    assert admin_client.get(f"/admin/utils/cronjobrun/{run.pk}/change/").status_code == 200
    response = admin_client.post(f"/admin/utils/cronjobrun/{run.pk}/change/", {"status": "failed"})
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.status == "running"


def test_stored_reports_are_served_to_staff_only(
    client: Client, admin_client: Client, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "r.csv").write_text("member,flights\n")
    anonymous = client.get("/media/reports/r.csv")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    staff = admin_client.get("/media/reports/r.csv")
    assert staff.status_code == 200 and b"".join(staff.streaming_content) == b"member,flights\n"
