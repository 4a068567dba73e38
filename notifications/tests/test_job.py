"""The two senders the notifications serve both provide ``SendingJob``.

mypy (``make lint``) checks the ``SENDERS`` annotation against the protocol; the test checks at
run time that each sender, as built, has every member the protocol names.
"""

from __future__ import annotations

import pytest

from notifications.job import SendingJob
from operations.alerts import AlertSender
from utils.cronjob import BaseCronJobCommand


class ProtocolCheckJob(BaseCronJobCommand):
    job_name = "protocol_check_job"


SENDERS: dict[str, type[SendingJob]] = {"command": BaseCronJobCommand, "alert": AlertSender}


def built(kind: str) -> SendingJob:
    if kind == "command":
        return ProtocolCheckJob()
    return AlertSender("protocol_check_job", None, lambda event, message: None)


@pytest.mark.parametrize("kind", sorted(SENDERS))
def test_a_sender_has_every_member_of_the_protocol(kind: str) -> None:
    members = [name for name in vars(SendingJob) if not name.startswith("_")]
    assert "unit_of_work" in members and "job_name" in members
    sender = built(kind)
    assert isinstance(sender, SENDERS[kind])
    # Instance attributes are set by __init__; properties and methods are the class's.
    provided = set(vars(sender)) | set(dir(type(sender)))
    assert [name for name in members if name not in provided] == []
