"""How a failed send is sorted (notifications.failures), one function at a time: what the
provider may have decides whether it is tried again, failed, or left in doubt."""

from __future__ import annotations

import smtplib

import pytest

from notifications.conversation import Conversation, Phase
from notifications.failures import DeliveryError, http_status_error, smtp_error


def conversation(phase: Phase, expired: bool = False) -> Conversation:
    talk = Conversation(deadline=5)
    talk.phase, talk.expired = phase, expired
    return talk


def kind(error: DeliveryError) -> str:
    return "in doubt" if error.in_doubt else "temporary" if error.temporary else "permanent"


@pytest.mark.parametrize(
    ("exc", "phase", "expired", "expected"),
    [
        (ConnectionRefusedError(111, "Connection refused"), Phase.CONNECTING, False, "temporary"),
        (smtplib.SMTPServerDisconnected("Connection closed"), Phase.CONNECTING, False, "temporary"),
        (smtplib.SMTPServerDisconnected("Server not connected"), Phase.HANDING_OVER, False, "temporary"),
        (TimeoutError("timed out"), Phase.HANDING_OVER, True, "temporary"),
        (smtplib.SMTPSenderRefused(451, b"try later", "a@b.org"), Phase.CONNECTING, False, "temporary"),
        (smtplib.SMTPDataError(451, b"try later"), Phase.WRITTEN, False, "temporary"),
        (smtplib.SMTPDataError(554, b"rejected"), Phase.WRITTEN, False, "permanent"),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed: timed out"), Phase.WRITTEN, False,
         "in doubt"),
        (TimeoutError("timed out"), Phase.WRITTEN, True, "in doubt"),
        (smtplib.SMTPDataError(25, b""), Phase.WRITTEN, True, "in doubt"),  # "250" torn by the watchdog
    ],
)  # fmt: skip
def test_an_smtp_failure_is_sorted_by_how_far_the_conversation_got(
    exc: Exception, phase: Phase, expired: bool, expected: str
) -> None:
    assert kind(smtp_error(exc, conversation(phase, expired))) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [(429, "temporary"), (503, "temporary"), (500, "in doubt"), (502, "in doubt"), (504, "in doubt"),
     (400, "permanent"), (401, "permanent"), (404, "permanent"), (410, "permanent")],
)  # fmt: skip
def test_an_http_answer_is_sorted_by_what_it_says(status: int, expected: str) -> None:
    assert kind(http_status_error(f"HTTP {status}", status)) == expected
