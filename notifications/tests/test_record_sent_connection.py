"""A message is out, and the connection that should record it is already closed (it broke
earlier, unnoticed): PostgreSQL's driver says InterfaceError, which Django does not count as a
DatabaseError. The row is still marked sent on a new connection before the error ends the run,
so the next run doesn't send it again."""

from __future__ import annotations

import datetime

import pytest
from django.db import InterfaceError, connection

from notifications.ledger import record_sent
from notifications.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sent_notice_is_recorded_even_when_the_connection_was_already_closed() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("InterfaceError for a connection closed underneath is PostgreSQL's (TEST_DB=postgres)")
    delivery = Delivery.objects.create(
        job_name="greeting_job", day=datetime.date(2026, 11, 23), recipient="member:1", kind="greeting"
    )
    connection.ensure_connection()
    assert connection.connection is not None
    connection.connection.close()  # broken underneath Django, as after a server restart

    with pytest.raises(InterfaceError):
        record_sent(delivery.pk, "<m2s.1@example.org>")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.message_id) == ("sent", "<m2s.1@example.org>")
    assert delivery.sent_at is not None
