"""Admin for locks and runs, and the health endpoints."""

from __future__ import annotations

import pytest
from django.db.models.functions import Now
from django.http import FileResponse
from django.test import Client

from utils.models import CronJobLock, CronJobRun

pytestmark = pytest.mark.django_db


def test_health_endpoints(client: Client) -> None:
    assert client.get("/healthz").content == b"ok\n"
    assert client.get("/readyz").status_code == 200


def test_the_admin_releases_selected_locks_after_confirmation(admin_client: Client) -> None:
    lease = CronJobLock.objects.acquire("notify_late_sprs", "pod-a", 60)
    assert lease is not None
    pk = CronJobLock.objects.get().pk
    assert admin_client.get("/admin/utils/cronjoblock/").status_code == 200
    confirm = admin_client.post(
        "/admin/utils/cronjoblock/", {"action": "release_locks", "_selected_action": [pk]}
    )
    assert "held by pod-a" in confirm.content.decode()
    assert CronJobLock.objects.exists()  # nothing happens before the confirmation
    # The lease is live: its own box says the operator checked that its holder is dead.
    response = admin_client.post(
        "/admin/utils/cronjoblock/",
        {
            "action": "release_locks",
            "_selected_action": [pk],
            "token": [lease.token],
            "release_live": [lease.token],
            "confirmed": "yes",
        },
        follow=True,
    )
    assert "Released 1 lock(s): notify_late_sprs" in response.content.decode()
    assert not CronJobLock.objects.exists()


def test_a_lock_that_changed_hands_after_the_confirmation_page_is_left_alone(admin_client: Client) -> None:
    first = CronJobLock.objects.acquire("notify_late_sprs", "pod-a", 60)
    assert first is not None
    pk = CronJobLock.objects.get().pk
    # pod-a's lease runs out and pod-b takes the lock (same row, new token).
    CronJobLock.objects.filter(pk=pk).update(expires_at=Now())
    assert CronJobLock.objects.acquire("notify_late_sprs", "pod-b", 60) is not None
    response = admin_client.post(
        "/admin/utils/cronjoblock/",
        {"action": "release_locks", "_selected_action": [pk], "token": [first.token], "confirmed": "yes"},
        follow=True,
    )
    assert "1 changed hands meanwhile and were left alone" in response.content.decode()
    assert CronJobLock.objects.get().locked_by == "pod-b"


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
) -> None:
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "r.csv").write_text("member,flights\n")
    anonymous = client.get("/media/reports/r.csv")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    staff = admin_client.get("/media/reports/r.csv")
    assert isinstance(staff, FileResponse)
    assert staff.status_code == 200 and staff.getvalue() == b"member,flights\n"
