"""Releasing a lock by hand in the admin: only with the delete permission, seeing the holder
and its lease, and a live lease only when the operator ticks that its holder is dead."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db.models.functions import Now
from django.test import Client

from utils.models import CronJobLock

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/utils/cronjoblock/"


def staff_client(django_user_model: Any, *permissions: str) -> Client:
    user = django_user_model.objects.create_user("ops", "ops@example.org", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    client = Client()
    client.force_login(user)
    return client


def lock(job_name: str, holder: str, occurrence: str = "", expired: bool = False) -> CronJobLock:
    assert CronJobLock.objects.acquire(job_name, holder, 60, occurrence=occurrence) is not None
    if expired:
        CronJobLock.objects.filter(job_name=job_name).update(expires_at=Now() - datetime.timedelta(minutes=3))
    return CronJobLock.objects.get(job_name=job_name)


def release(client: Client, *locks: CronJobLock, live_confirmed: tuple[CronJobLock, ...] = ()) -> str:
    response = client.post(
        CHANGELIST,
        {
            "action": "release_locks",
            "_selected_action": [row.pk for row in locks],
            "token": [row.token for row in locks],
            "release_live": [row.token for row in live_confirmed],
            "confirmed": "yes",
        },
        follow=True,
    )
    return response.content.decode()


def test_a_view_only_staff_member_cannot_release_a_lock(django_user_model: Any) -> None:
    client = staff_client(django_user_model, "view_cronjoblock")
    held = lock("notify_late_sprs", "pod-a")
    page = client.get(CHANGELIST)
    assert page.status_code == 200 and "release_locks" not in page.content.decode()
    release(client, held, live_confirmed=(held,))
    assert CronJobLock.objects.get().token == held.token


def test_the_confirmation_page_shows_the_holder_its_occurrence_and_the_lease(django_user_model: Any) -> None:
    client = staff_client(django_user_model, "view_cronjoblock", "delete_cronjoblock")
    live = lock("notify_late_sprs", "pod-a", occurrence="notify-late-sprs-29414400")
    dead = lock("expire_ad_hoc_days", "pod-b", expired=True)
    page = client.post(CHANGELIST, {"action": "release_locks", "_selected_action": [live.pk, dead.pk]})
    text = page.content.decode()
    assert "held by pod-a" in text and "notify-late-sprs-29414400" in text
    assert re.search(r"lease (59|60)s left", text), text
    assert "held by pod-b" in text and "lease expired 3m ago" in text
    assert text.count('name="release_live"') == 1  # a box for the live lease only
    assert CronJobLock.objects.count() == 2  # nothing happens before the confirmation


def test_a_live_lease_is_released_only_when_its_box_is_ticked(django_user_model: Any) -> None:
    client = staff_client(django_user_model, "view_cronjoblock", "delete_cronjoblock")
    live = lock("notify_late_sprs", "pod-a")
    dead = lock("expire_ad_hoc_days", "pod-b", expired=True)

    text = release(client, live, dead)
    assert "Released 1 lock(s): expire_ad_hoc_days" in text
    assert "Kept 1 live lock(s), not confirmed as dead: notify_late_sprs (held by pod-a, lease" in text
    assert list(CronJobLock.objects.values_list("job_name", flat=True)) == ["notify_late_sprs"]

    assert "Released 1 lock(s): notify_late_sprs" in release(client, live, live_confirmed=(live,))
    assert not CronJobLock.objects.exists()


def test_the_generic_delete_cannot_bypass_the_release(admin_client: Client) -> None:
    held = lock("notify_late_sprs", "pod-a")
    page = admin_client.get(CHANGELIST).content.decode()
    assert "release_locks" in page and "delete_selected" not in page
    assert admin_client.get(f"{CHANGELIST}{held.pk}/delete/").status_code == 403
    admin_client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [held.pk], "post": "yes"})
    assert CronJobLock.objects.get().token == held.token
