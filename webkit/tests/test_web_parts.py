"""The web app's icon and the admin's help texts."""

from __future__ import annotations

import pytest
from django.test import Client

from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(MemberFactory(is_staff=True, is_superuser=True))
    return client


def test_the_icon_is_served_where_browsers_ask_for_it(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    body = response.getvalue()
    assert body[:4] == b"\x00\x00\x01\x00" and int.from_bytes(body[4:6], "little") == 3  # 16, 32, 48 px
    assert "max-age=86400" in response["Cache-Control"]


def test_the_admin_and_the_dashboard_link_the_icon(staff_client: Client) -> None:
    link = '<link rel="icon" href="/favicon.ico">'
    assert link in staff_client.get("/admin/").content.decode()
    assert link in staff_client.get("/cron/").content.decode()


def test_an_admin_list_and_form_show_their_help(staff_client: Client) -> None:
    listing = staff_client.get("/admin/duty_roster/clubclosure/").content.decode()
    assert "Days the club is closed, first to last day inclusive." in listing
    assert "<code>docs/scheduling.md#closed-days</code>" in listing
    form = staff_client.get("/admin/duty_roster/clubclosure/add/").content.decode()
    assert "Days the club is closed, first to last day inclusive." in form
    ledger = staff_client.get("/admin/notifications/delivery/").content.decode()
    assert "A notice in doubt may or may not have arrived" in ledger


def test_an_admin_without_help_shows_none(staff_client: Client) -> None:
    assert 'class="help admin-help"' not in staff_client.get("/admin/logsheet/airfield/").content.decode()
